package redis

// SlotOf is slotOf, for the tests that compare it with Redis's CLUSTER KEYSLOT.
var SlotOf = slotOf
