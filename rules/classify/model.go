// Package classify is a small text classifier for the rule file's score():
// a logistic regression over hashed features of the folded text (words, the
// words in the text's language, their first letters, word pairs, character
// n-grams) and of the message's form (links, domains, mentions, capitals),
// trained in seconds by vigie train on labelled events,
// and scored in microseconds with no service and nothing fetched at run time.
package classify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
)

// Model is a trained classifier: the weights of the hashed features, kept as
// 8-bit integers times one scale. A megabyte for 2^20 weights rather than
// two at 16 bits: the table is read at random places, one per feature, and
// the less of it there is, the more of it the processor's cache holds.
type Model struct {
	// Label is what a high score says: the category the model was trained to
	// find (spam, abuse).
	Label string
	// Examples and Positives count what it was trained on.
	Examples, Positives int

	bits    uint8
	grams   bool // the model reads the character n-grams
	mask    uint32
	scale   float64 // a weight is weights[i] * scale
	bias    float64
	weights []int8
}

// Score is the probability, from 0 to 1, that the text whose features are f
// (Features.Extract) is of the model's label: the features are extracted
// once to score a text with several models.
func (m *Model) Score(f *Features) float64 {
	var text, shape int64
	w, mask := m.weights, m.mask
	// a model reads the n-grams, or in their place the words of five
	// letters as their own first letters
	more := f.Whole
	if m.grams {
		more = f.Grams
	}
	n := len(f.Words) + len(more)
	for _, h := range f.Words {
		text += int64(w[h&mask])
	}
	for _, h := range more {
		text += int64(w[h&mask])
	}
	for _, h := range f.Shape {
		shape += int64(w[h&mask])
	}
	z := m.bias + m.scale*(float64(text)*textScale(n)+float64(shape))
	return sigmoid(z)
}

// textScale weighs n text features: one over the square root of n.
func textScale(n int) float64 {
	if n == 0 {
		return 0
	}
	return 1 / math.Sqrt(float64(n))
}

// Grams reports whether the model reads the words' character n-grams.
func (m *Model) Grams() bool { return m.grams }

func sigmoid(z float64) float64 {
	return 1 / (1 + math.Exp(-z))
}

// The file: magic, format version, feature version, the hash bits, flags
// (1: the model reads character n-grams), the label, the counts, the bias and
// scale, the weights (one signed byte each), and a CRC-32 of all that before
// it. Little-endian throughout. Format 1 had weights of 16 bits.
const (
	magic         = "VIGIEMDL"
	formatVersion = 2
	// MinBits and MaxBits bound the weights' table: 2^MinBits to 2^MaxBits entries.
	MinBits = 10
	MaxBits = 24
)

// flagGrams marks a model that reads character n-grams.
const flagGrams = 1

// ErrCorrupt is wrapped by the errors of a model file that is not whole or
// was changed after it was written.
var ErrCorrupt = errors.New("corrupt model file")

// MarshalBinary writes the model file.
func (m *Model) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(magic)
	le := binary.LittleEndian
	b.Write(le.AppendUint16(nil, formatVersion))
	b.Write(le.AppendUint16(nil, FeatureVersion))
	b.WriteByte(m.bits)
	var flags byte
	if m.grams {
		flags |= flagGrams
	}
	b.WriteByte(flags)
	if len(m.Label) > 255 {
		return nil, fmt.Errorf("label %q is too long", m.Label)
	}
	b.WriteByte(byte(len(m.Label)))
	b.WriteString(m.Label)
	b.Write(le.AppendUint32(nil, uint32(m.Examples)))
	b.Write(le.AppendUint32(nil, uint32(m.Positives)))
	b.Write(le.AppendUint64(nil, math.Float64bits(m.bias)))
	b.Write(le.AppendUint64(nil, math.Float64bits(m.scale)))
	for _, w := range m.weights {
		b.WriteByte(byte(w))
	}
	b.Write(crcBytes(b.Bytes()))
	return b.Bytes(), nil
}

// UnmarshalBinary reads a model file. A file that is not a model, was cut
// short or changed (its checksum), or was written by another version of the
// format or of the features is refused with an error that says which.
func (m *Model) UnmarshalBinary(data []byte) error {
	if len(data) < len(magic) || string(data[:len(magic)]) != magic {
		return errors.New("not a vigie model file (made by vigie train)")
	}
	if len(data) < len(magic)+8 {
		return fmt.Errorf("%w: cut short", ErrCorrupt)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return fmt.Errorf("%w: checksum mismatch (cut short or changed since it was written)", ErrCorrupt)
	}
	r := &reader{b: body[len(magic):]}
	format, features := r.u16(), r.u16()
	if format != formatVersion {
		return fmt.Errorf("model file format %d, this vigie reads format %d: train the model again with this vigie", format, formatVersion)
	}
	if features != FeatureVersion {
		return fmt.Errorf("model trained on features version %d, this vigie computes version %d: train the model again with this vigie", features, FeatureVersion)
	}
	bits, flags := r.u8(), r.u8()
	label := string(r.bytes(int(r.u8())))
	examples, positives := r.u32(), r.u32()
	bias, scale := math.Float64frombits(r.u64()), math.Float64frombits(r.u64())
	if r.err != nil {
		return fmt.Errorf("%w: cut short", ErrCorrupt)
	}
	if flags&^flagGrams != 0 {
		return fmt.Errorf("%w: unknown flags %#x", ErrCorrupt, flags)
	}
	if bits < MinBits || bits > MaxBits {
		return fmt.Errorf("%w: %d hash bits, want %d to %d", ErrCorrupt, bits, MinBits, MaxBits)
	}
	raw := r.bytes(1 << bits)
	if r.err != nil || len(r.b) != 0 {
		return fmt.Errorf("%w: %d bytes of weights, want %d", ErrCorrupt, len(raw)+len(r.b), 1<<bits)
	}
	if math.IsNaN(bias) || math.IsInf(bias, 0) || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return fmt.Errorf("%w: bias or scale is not a number", ErrCorrupt)
	}
	weights := make([]int8, 1<<bits)
	for i, b := range raw {
		weights[i] = int8(b)
	}
	*m = Model{Label: label, Examples: int(examples), Positives: int(positives),
		bits: bits, grams: flags&flagGrams != 0, mask: 1<<bits - 1, scale: scale, bias: bias, weights: weights}
	return nil
}

// MaxFileBytes is the largest model file read, well above what vigie train
// makes: the starter pack's largest is 1 MiB (2^20 weights of a byte), the
// largest possible 16 MiB (MaxBits). A larger file, or one that is not
// a regular file (/dev/zero, a FIFO), is refused rather than read.
const MaxFileBytes = 64 << 20

// Load reads a model file, a regular file of at most MaxFileBytes.
func Load(path string) (*Model, error) {
	// looked at before it is opened: opening a FIFO waits for a writer
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := loadable(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := loadable(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than the %d MiB allowed", path, MaxFileBytes>>20)
	}
	m := new(Model)
	if err := m.UnmarshalBinary(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func loadable(path string, fi os.FileInfo) error {
	switch {
	case !fi.Mode().IsRegular():
		kind := "a device"
		switch m := fi.Mode(); {
		case m.IsDir():
			kind = "a folder"
		case m&os.ModeNamedPipe != 0:
			kind = "a FIFO"
		case m&os.ModeCharDevice != 0:
			kind = "a character device"
		case m&os.ModeSocket != 0:
			kind = "a socket"
		}
		return fmt.Errorf("%s: not a regular file (%s)", path, kind)
	case fi.Size() > MaxFileBytes:
		return fmt.Errorf("%s: %d bytes, larger than the %d MiB allowed", path, fi.Size(), MaxFileBytes>>20)
	}
	return nil
}

// Bits is the size of the model's table of weights: 2^Bits entries.
func (m *Model) Bits() int { return int(m.bits) }

type reader struct {
	b   []byte
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() uint8 {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// crcBytes is the checksum that ends a model file.
func crcBytes(d []byte) []byte {
	return binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(d))
}
