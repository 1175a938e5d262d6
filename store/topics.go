package store

import "context"

// TopicKeeper is offered by a store that keeps the names of a place's
// threads (a Telegram forum's topics) as they were last renamed: the
// platform says a topic's name when it is made or renamed only, and, after
// a restart or on another instance, shows the name it was created with.
// The desks check for it by type assertion.
type TopicKeeper interface {
	// PutTopicName records thread's name in the platform's space.
	PutTopicName(ctx context.Context, platform, space, thread, name string) error
	// TopicName returns thread's name, "" when none was recorded.
	TopicName(ctx context.Context, platform, space, thread string) (string, error)
}

// MaxTopicNames bounds the names a store keeps per space, and MaxTopicName
// a name's length in bytes (Telegram's are 128 characters at most).
const (
	MaxTopicNames = 1000
	MaxTopicName  = 512
)
