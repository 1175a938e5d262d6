package bot

import "context"

type auditReasonKey struct{}

// WithAuditReason returns ctx carrying why the actions done with it are done
// (the rule, the case, the CM who decided), for the platforms that keep an
// audit log of moderation: Discord's X-Audit-Log-Reason.
func WithAuditReason(ctx context.Context, reason string) context.Context {
	return context.WithValue(ctx, auditReasonKey{}, reason)
}

type byHandKey struct{}

// WithByHand returns ctx saying its actions were asked by a person (a CM's
// decision on a case, a moderator's command), not by a rule: a platform
// then does as asked where it would keep a rule from undoing more (a
// shorter timeout replaces a longer one).
func WithByHand(ctx context.Context) context.Context {
	return context.WithValue(ctx, byHandKey{}, true)
}

// ByHand reports whether WithByHand marked ctx.
func ByHand(ctx context.Context) bool {
	b, _ := ctx.Value(byHandKey{}).(bool)
	return b
}

// AuditReason is the reason WithAuditReason put on ctx, "" without one.
func AuditReason(ctx context.Context) string {
	r, _ := ctx.Value(auditReasonKey{}).(string)
	return r
}
