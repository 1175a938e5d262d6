package redis

// SlotOf is slotOf, for the tests that compare it with Redis's CLUSTER KEYSLOT.
var SlotOf = slotOf

// ParseLatest is parseLatest, for its test against encoding/json.
var ParseLatest = parseLatest
