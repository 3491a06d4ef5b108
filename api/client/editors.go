package client

import (
	"context"
	"net/http"
)

// WithBearer sends token with every request as "Authorization: Bearer
// token"; an empty token sends none.
func WithBearer(token string) ClientOption {
	return WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return nil
	})
}

// Accept asks for the answer as mediaType, for the operations that answer in
// more than one (the audit trail, the backlog, the review pack).
func Accept(mediaType string) RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Accept", mediaType)
		return nil
	}
}
