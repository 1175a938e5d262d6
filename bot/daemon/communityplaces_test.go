package daemon_test

import (
	"strconv"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// A community names its Telegram group, and no list says which groups vigie
// moderates.
const communityPlaceRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete]
communities:
  velo:
    places: ["telegram:-100300"]
    desk: {cms: ["telegram:43"]}
`

// TestCommunityPlacesAreModerated: with no chat list, the groups the rule
// file's communities name are the list: moderated, whoever administers them;
// another group is not.
func TestCommunityPlacesAreModerated(t *testing.T) {
	api := tgfake.New(t)
	start(t, communityPlaceRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL, "TELEGRAM_CHATS": ""})
	const place, other = -100300, -100400
	api.SetAdmins(place, 43)
	api.SetAdmins(other, 666)
	api.Push(groupMessage(other, 7, "Eve", "FREE NITRO here"))
	api.Push(groupMessage(place, 7, "Eve", "FREE NITRO here"))
	testsync.Eventually(t, "the scam deleted in the community's group", func() bool {
		return len(find(api, "deleteMessage", "chat_id", strconv.Itoa(place))) == 1
	})
	if got := find(api, "deleteMessage", "chat_id", strconv.Itoa(other)); len(got) != 0 {
		t.Errorf("%d deletes in a group no community names", len(got))
	}
}
