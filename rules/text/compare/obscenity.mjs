// Runs the npm package obscenity on vigie's obfuscation and innocent sets and
// prints its answers as JSON for main.go (go run . -with FILE), which prints
// them next to vigie's and go-away's. Two set-ups: obscenity's own English
// data set, and the starter pack's lists as obscenity patterns; both with
// obscenity's recommended transformers (confusables, leetspeak, duplicates).
import { readFileSync } from 'node:fs';
import {
  DataSet, RegExpMatcher, englishDataset, englishRecommendedTransformers, parseRawPattern,
} from 'obscenity';

const lists = process.argv[2] ?? '../../../lists';
const minMillis = Number(process.argv[3] ?? 1000);

// one entry a line, blank lines and # comments skipped, as vigie reads lists
function readLines(path, keepHash) {
  return readFileSync(path, 'utf8').split('\n')
    .map((l) => (keepHash ? l : l.split(' #')[0]))
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => (keepHash ? l : l.trim()));
}

const obf = readLines('obfuscated.tsv', true).map((l) => l.split('\t')[2]);
const innocent = readLines('innocent.txt', true);

const abuseLists = ['insults-fr.txt', 'insults-en.txt', 'slurs-fr.txt', 'slurs-en.txt', 'profanity-fr.txt', 'profanity-en.txt'];
const packWords = new Set();
for (const name of abuseLists) {
  for (const w of readLines(`${lists}/${name}`, false)) {
    if (w.startsWith('!')) continue; // allow entries
    // obscenity patterns: lower-case letters and spaces; | marks a word boundary
    const word = w.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9 ]/g, ' ').replace(/\s+/g, ' ').trim();
    if (word) packWords.add(word);
  }
}
const packData = new DataSet();
for (const w of packWords) {
  packData.addPhrase((p) => p.setMetadata({ originalWord: w }).addPattern(parseRawPattern(`|${w}|`)));
}

const filters = [
  ['obscenity (its own English data set)', new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers })],
  ['obscenity (starter pack lists)', new RegExpMatcher({ ...packData.build(), ...englishRecommendedTransformers })],
];

// Speed: the filters take turns, three rounds, each keeps its best round.
const out = filters.map(([name, m]) => ({
  name, obfuscated: obf.map((s) => m.hasMatch(s)), innocent: innocent.map((s) => m.hasMatch(s)), per_second: 0,
}));
for (let round = 0; round < 3; round++) {
  filters.forEach(([, m], i) => {
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < minMillis / 3) {
      for (const s of obf) m.hasMatch(s);
      for (const s of innocent) m.hasMatch(s);
      n += obf.length + innocent.length;
      elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    }
    out[i].per_second = Math.max(out[i].per_second, n / (elapsed / 1000));
  });
}
process.stdout.write(JSON.stringify(out));
