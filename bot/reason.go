package bot

import "context"

type auditReasonKey struct{}

// WithAuditReason returns ctx carrying why the actions done with it are done
// (the rule, the case, the CM who decided), for the platforms that keep an
// audit log of moderation: Discord's X-Audit-Log-Reason.
func WithAuditReason(ctx context.Context, reason string) context.Context {
	return context.WithValue(ctx, auditReasonKey{}, reason)
}

// AuditReason is the reason WithAuditReason put on ctx, "" without one.
func AuditReason(ctx context.Context) string {
	r, _ := ctx.Value(auditReasonKey{}).(string)
	return r
}
