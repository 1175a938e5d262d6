package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// usersCommand is `vigie users add|list|delete`: the web console's accounts,
// kept by the running vigie in its store (so every instance on one Redis
// knows them).
func (c *cli) usersCommand(ctx context.Context, args []string) int {
	f := c.flags("users")
	base := f.urlFlag("")
	role := f.String("role", "moderator", "add: the account's role, `viewer|moderator|admin`")
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return f.usageError("missing add, list or delete")
	}
	api := adminAPI{c: c, base: *base}
	var err error
	switch verb, rest := pos[0], pos[1:]; verb {
	case "list":
		if len(rest) > 0 {
			return f.usageError("list: unexpected argument %q", rest[0])
		}
		err = c.usersList(ctx, api)
	case "add":
		if len(rest) != 1 {
			return f.usageError("add: want one NAME")
		}
		err = c.usersAdd(ctx, api, rest[0], *role)
	case "delete":
		if len(rest) != 1 {
			return f.usageError("delete: want one NAME")
		}
		_, _, err = api.do(ctx, http.MethodDelete, "/v1/accounts/"+url.PathEscape(rest[0]), nil, nil, http.StatusNoContent)
		if err == nil {
			fmt.Fprintf(c.stdout, "%s deleted; their sessions are over.\n", rest[0])
		}
	default:
		return f.usageError("unknown %q (want add, list or delete)", verb)
	}
	if err != nil {
		return c.fail("users", err)
	}
	return exitOK
}

func (c *cli) usersList(ctx context.Context, api adminAPI) error {
	body, _, err := api.do(ctx, http.MethodGet, "/v1/accounts", nil, nil, http.StatusOK)
	if err != nil {
		return err
	}
	var list []struct {
		Name, Role string
		Created    time.Time
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stdout, "No account: add one with vigie users add NAME --role admin.")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED")
	for _, a := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.Role, a.Created.UTC().Format("2006-01-02 15:04 MST"))
	}
	return tw.Flush()
}

// usersAdd creates the account, or sets its role and password again. The
// password is the first line of standard input; with none (or a terminal,
// where it would show as it is typed), one is made and printed once.
func (c *cli) usersAdd(ctx context.Context, api adminAPI, name, role string) error {
	var password string
	if f, ok := c.stdin.(*os.File); !ok || !isTerminal(f) {
		line, _ := bufio.NewReader(c.stdin).ReadString('\n')
		password = strings.TrimRight(line, "\r\n")
	}
	made := password == ""
	if made {
		password = strings.ToLower(rand.Text()[:20])
	}
	payload, err := json.Marshal(map[string]string{"role": role, "password": password})
	if err != nil {
		return err
	}
	_, code, err := api.do(ctx, http.MethodPut, "/v1/accounts/"+url.PathEscape(name), nil, payload, http.StatusOK, http.StatusCreated)
	if err != nil {
		return err
	}
	what := "added"
	if code == http.StatusOK {
		what = "updated"
	}
	fmt.Fprintf(c.stdout, "%s %s, %s.\n", name, what, role)
	if made {
		fmt.Fprintf(c.stdout, "password: %s\n", password)
	}
	return nil
}
