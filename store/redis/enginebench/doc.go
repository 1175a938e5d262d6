// Package enginebench measures the rules engine with the Redis store: what vigie
// run sustains with --redis. It is a package of its own so that the store's tests
// do not depend on the rules.
package enginebench
