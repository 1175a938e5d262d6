package redis

import (
	"encoding/binary"
	"strconv"
)

// A counter's key made by an event is a sorted set of three members: the
// event, scored by its time, the expiry marker "~" scored minus its expiry
// and "^" scored +inf (see observeScript). Made by ZADD it needs a PEXPIRE
// after it, a second redis.call; made by RESTORE from the form DUMP gives,
// built here, it is made with its expiry in one. The key is the same either
// way, byte for byte in Redis's memory (TestRestoredCounterIsTheSame), so
// that a vigie that makes its keys with ZADD reads and adds to it as to its
// own.
//
// The form (Redis 7.0's, which later versions read): the object's type
// (a sorted set as a listpack), the listpack as a string, the RDB version
// and a CRC-64 of what comes before it.
const (
	rdbTypeZsetListpack = 17
	rdbVersion          = 10
)

// counterDump returns the DUMP form of a new counter's sorted set, or nil
// when member is not a string to Redis (a number is kept as one, in another
// form: no member of an observation is).
func counterDump(member string, at, expiry int64) []byte {
	if _, err := strconv.ParseInt(member, 10, 64); err == nil || len(member) >= 64 {
		return nil
	}
	// Ordered by score: "~" (minus the expiry), the event, "^" (+inf).
	var lp [128]byte
	b := append(lp[:0], 0, 0, 0, 0, 6, 0) // total bytes, then 6 elements
	b = lpString(b, "~")
	b = lpInt(b, -expiry)
	b = lpString(b, member)
	b = lpInt(b, at)
	b = lpString(b, "^")
	b = lpString(b, "inf")
	b = append(b, 0xff)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	out := make([]byte, 0, len(b)+16)
	out = append(out, rdbTypeZsetListpack)
	out = rdbLen(out, len(b))
	out = append(out, b...)
	out = binary.LittleEndian.AppendUint16(out, rdbVersion)
	return binary.LittleEndian.AppendUint64(out, crc64Redis(out))
}

// lpString appends a listpack entry of a string shorter than 64 bytes.
func lpString(b []byte, s string) []byte {
	b = append(b, 0x80|byte(len(s)))
	b = append(b, s...)
	return lpBacklen(b, 1+len(s))
}

// lpInt appends a listpack entry of an integer, in the smallest of its forms.
func lpInt(b []byte, v int64) []byte {
	n := len(b)
	switch {
	case v >= 0 && v <= 127:
		b = append(b, byte(v))
	case v >= -4096 && v <= 4095:
		u := uint64(v) & (1<<13 - 1)
		b = append(b, 0xc0|byte(u>>8), byte(u))
	case v >= -32768 && v <= 32767:
		b = append(b, 0xf1)
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	case v >= -8388608 && v <= 8388607:
		u := uint32(v)
		b = append(b, 0xf2, byte(u), byte(u>>8), byte(u>>16))
	case v >= -2147483648 && v <= 2147483647:
		b = append(b, 0xf3)
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	default:
		b = append(b, 0xf4)
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return lpBacklen(b, len(b)-n)
}

// lpBacklen appends an entry's length as a listpack reads it backwards
// (entries here are shorter than 16,383 bytes).
func lpBacklen(b []byte, l int) []byte {
	if l <= 127 {
		return append(b, byte(l))
	}
	return append(b, byte(l>>7), byte(l&127)|128)
}

// rdbLen appends a length as RDB writes it (a listpack here is shorter
// than 16,384 bytes).
func rdbLen(b []byte, n int) []byte {
	if n < 64 {
		return append(b, byte(n))
	}
	return append(b, 0x40|byte(n>>8), byte(n))
}

// crc64Table is Redis's CRC-64 (Jones, reflected, no final xor).
var crc64Table = func() (t [256]uint64) {
	const poly = 0x95ac9329ac4bc9b5
	for i := range t {
		c := uint64(i)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ poly
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

func crc64Redis(p []byte) uint64 {
	var c uint64
	for _, b := range p {
		c = crc64Table[byte(c)^b] ^ c>>8
	}
	return c
}
