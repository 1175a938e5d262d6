// Package failover shows vigie moderating through a Redis Sentinel failover:
// the rules and the handlers on the Redis store, the master killed under them.
// It is a package of its own so that the store's tests do not depend on the
// rules.
package failover
