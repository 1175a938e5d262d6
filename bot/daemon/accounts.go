package daemon

import (
	"errors"
	"net/http"
	"time"

	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
)

// minPassword is the shortest password the console takes.
const minPassword = 10

// accountView is an account as the API shows it: never its hash.
type accountView struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
}

// accounts is the store's account book, or an error answered for a store
// that keeps none.
func (d *daemon) accounts(w http.ResponseWriter) (store.Accounts, bool) {
	acc, ok := d.store.(store.Accounts)
	if !ok {
		writeError(w, http.StatusNotImplemented, "this store keeps no accounts")
	}
	return acc, ok
}

// handleAccounts lists the console's accounts.
func (d *daemon) handleAccounts(w http.ResponseWriter, r *http.Request) {
	acc, ok := d.accounts(w)
	if !ok {
		return
	}
	list, err := acc.AccountList(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "accounts: "+err.Error())
		return
	}
	out := make([]accountView, len(list))
	for i, a := range list {
		out[i] = accountView{a.Name, a.Role, a.Created}
	}
	writeJSON(w, http.StatusOK, out)
}

// handlePutAccount creates an account or changes its role and password:
// {"role": "moderator", "password": "…"}; the password is hashed here and
// never stored or logged as it is.
func (d *daemon) handlePutAccount(w http.ResponseWriter, r *http.Request) {
	acc, ok := d.accounts(w)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !console.ValidAccountName(name) {
		writeError(w, http.StatusBadRequest, "name: 1 to 32 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit")
		return
	}
	var q struct {
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if !decodeBody(w, r, 4096, &q) {
		return
	}
	if !console.ValidRole(q.Role) {
		writeError(w, http.StatusBadRequest, `role: want viewer, moderator or admin`)
		return
	}
	if len([]rune(q.Password)) < minPassword {
		writeError(w, http.StatusBadRequest, "password: at least 10 characters")
		return
	}
	code := http.StatusOK
	old, err := acc.Account(r.Context(), name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		code, old.Created = http.StatusCreated, d.now().UTC()
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "accounts: "+err.Error())
		return
	}
	a := store.Account{Name: name, Role: q.Role, Hash: console.HashPassword(q.Password), Created: old.Created}
	if err := acc.PutAccount(r.Context(), a); err != nil {
		writeError(w, http.StatusServiceUnavailable, "accounts: "+err.Error())
		return
	}
	d.log.Info("console account set", "name", name, "role", q.Role, "new", code == http.StatusCreated)
	writeJSON(w, code, accountView{a.Name, a.Role, a.Created})
}

// handleDeleteAccount removes an account; its sessions end with it.
func (d *daemon) handleDeleteAccount(w http.ResponseWriter, r *http.Request) {
	acc, ok := d.accounts(w)
	if !ok {
		return
	}
	err := acc.DeleteAccount(r.Context(), r.PathValue("name"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no account "+r.PathValue("name"))
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "accounts: "+err.Error())
	default:
		d.log.Info("console account deleted", "name", r.PathValue("name"))
		w.WriteHeader(http.StatusNoContent)
	}
}
