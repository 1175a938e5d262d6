// Package text turns a message's text into what moderation rules look at: links,
// domains, mentions, emojis, shouting, and word lists matched through the usual
// disguises (accents, leetspeak, spacing, look-alike letters).
package text
