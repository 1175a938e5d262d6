package daemon_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

const albumRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: scam
    category: spam
    when: 'not author.staff and lower(content) contains "free nitro"'
    do: [delete]
`

// TestScamAlbumIsDeletedWhole: an album (several photos sent at once) is a
// message per photo, sharing a media_group_id, with the caption on the first
// only. A scam album's caption matches the rules, and its delete takes the
// album's other photos with it, those vigie saw already and those that come
// after: before, the caption's photo alone was deleted, and the scam's other
// pictures stayed in the group all night.
func TestScamAlbumIsDeletedWhole(t *testing.T) {
	api := tgfake.New(t)
	const group = -100200
	start(t, albumRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_CHATS": strconv.Itoa(group)})
	photo := func(id int, album, caption string) map[string]any {
		m := map[string]any{"message_id": id, "date": time.Now().Unix(), "media_group_id": album,
			"chat":  map[string]any{"id": group, "type": "supergroup", "title": "fans"},
			"from":  map[string]any{"id": 7, "is_bot": false, "first_name": "Eve"},
			"photo": []any{map[string]any{"file_id": "f" + strconv.Itoa(id), "file_unique_id": "u" + strconv.Itoa(id), "width": 90, "height": 90}}}
		if caption != "" {
			m["caption"] = caption
		}
		return map[string]any{"message": m}
	}
	deleted := func() []int {
		var ids []int
		for _, c := range api.CallsOf("deleteMessage") {
			id, _ := strconv.Atoi(c.Params.Get("message_id"))
			ids = append(ids, id)
		}
		for _, c := range api.CallsOf("deleteMessages") {
			var more []int
			if err := json.Unmarshal([]byte(c.Params.Get("message_ids")), &more); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, more...)
		}
		slices.Sort(ids)
		return slices.Compact(ids)
	}
	// A member's album, not spam, beside it: nothing of it is deleted.
	api.Push(photo(20, "holiday", "our trip"))
	api.Push(photo(21, "holiday", ""))
	api.Push(photo(30, "scam", "FREE NITRO for all https://discord-gift.example.net/claim"))
	api.Push(photo(31, "scam", ""))
	api.Push(photo(32, "scam", ""))
	testsync.Eventually(t, "the scam album deleted", func() bool { return slices.Equal(deleted(), []int{30, 31, 32}) })
	// A photo of the album that comes after the delete goes too.
	api.Push(photo(33, "scam", ""))
	testsync.Eventually(t, "the album's late photo deleted", func() bool { return slices.Equal(deleted(), []int{30, 31, 32, 33}) })
}
