package discord

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

// discordgo v0.28.1 (the release vigie is built on) decodes a message without
// what Discord added since: the kind of its reference (a reply or a forward),
// the snapshots a forward carries and a poll. vigie reads those three from the
// message's own JSON, as Discord's API describes them
// (https://discord.com/developers/docs/resources/message).

// contextGuild is the interaction context type GUILD: a command registered
// with it is offered inside servers only.
const contextGuild = 0

// referenceForward is the message reference type FORWARD (DEFAULT, 0, is a
// reply).
const referenceForward = 1

// wireMessage is a message as the gateway or the REST API sent it: discordgo's
// decoding, and what it leaves out.
type wireMessage struct {
	*discordgo.Message
	more
}

// more is what discordgo does not decode of a message.
type more struct {
	Ref *struct {
		Type int `json:"type"`
	} `json:"message_reference"`
	Snapshots []struct {
		Message *snapshot `json:"message"`
	} `json:"message_snapshots"`
	Poll *poll `json:"poll"`
}

// snapshot is the part of a forwarded message a forward carries.
type snapshot struct {
	Content     string                         `json:"content"`
	Attachments []*discordgo.MessageAttachment `json:"attachments"`
	Embeds      []*discordgo.MessageEmbed      `json:"embeds"`
	Poll        *poll                          `json:"poll"`
}

// poll is a message's poll: its question and its answers' texts.
type poll struct {
	Question struct {
		Text string `json:"text"`
	} `json:"question"`
	Answers []struct {
		Media *struct {
			Text string `json:"text"`
		} `json:"poll_media"`
	} `json:"answers"`
}

// UnmarshalJSON decodes a message twice: as discordgo does, and for what it
// leaves out.
func (m *wireMessage) UnmarshalJSON(b []byte) error {
	m.Message = new(discordgo.Message)
	if err := json.Unmarshal(b, m.Message); err != nil {
		return err
	}
	return m.more.read(b)
}

// read decodes what discordgo leaves out of the message b, when b has any.
func (x *more) read(b []byte) error {
	*x = more{}
	if !bytes.Contains(b, []byte(`"message_reference"`)) && !bytes.Contains(b, []byte(`"poll"`)) {
		return nil
	}
	return json.Unmarshal(b, x)
}

// forward reports whether the message forwards another.
func (m *wireMessage) forward() bool {
	return m.MessageReference != nil && m.Ref != nil && m.Ref.Type == referenceForward
}

// gatewayMessage is the message of a MESSAGE_CREATE or MESSAGE_UPDATE event,
// the raw event's data read for what discordgo left out.
func gatewayMessage(m *discordgo.Message, raw json.RawMessage) (*wireMessage, error) {
	if m == nil {
		return nil, nil
	}
	out := &wireMessage{Message: m}
	return out, out.more.read(raw)
}

// channelMessages is discordgo's Session.ChannelMessages with the messages
// read whole: a page of a channel's history, after an id, or before one
// (Discord takes one of them).
func channelMessages(s *discordgo.Session, channel string, limit int, after, before string, options ...discordgo.RequestOption) ([]*wireMessage, error) {
	v := url.Values{}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	switch {
	case after != "":
		v.Set("after", after)
	case before != "":
		v.Set("before", before)
	}
	uri := discordgo.EndpointChannelMessages(channel)
	if len(v) > 0 {
		uri += "?" + v.Encode()
	}
	body, err := s.RequestWithBucketID("GET", uri, nil, discordgo.EndpointChannelMessages(channel), options...)
	if err != nil {
		return nil, err
	}
	var msgs []*wireMessage
	if err := json.Unmarshal(body, &msgs); err != nil {
		return nil, err
	}
	return msgs, nil
}
