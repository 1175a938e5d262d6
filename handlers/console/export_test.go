package console

import "golang.org/x/crypto/argon2"

// OnHash has c call f with the cost of each password it hashes, before
// hashing it as usual.
func OnHash(c *Console, f func(memory, time uint32, threads uint8)) {
	c.idKey = func(password, salt []byte, t, m uint32, p uint8, keyLen uint32) []byte {
		f(m, t, p)
		return argon2.IDKey(password, salt, t, m, p, keyLen)
	}
}

// HoldCompiles takes every turn to compile a draft until release is called.
func HoldCompiles(c *Console) (release func()) {
	for range cap(c.compiles) {
		c.compiles <- struct{}{}
	}
	return func() {
		for range cap(c.compiles) {
			<-c.compiles
		}
	}
}
