package meta

// MentionsOut is how many @mentions the connector took and has not yet
// handed over, nor made a case: the tests wait for them, as their text is
// read beside the other events and they may come out after them.
func (c *Connector) MentionsOut() int64 { return c.mentionsOut.Load() }

// Queued is how many events wait between the webhook and Run.
func (c *Connector) Queued() int { return len(c.queue) }
