package roadmap_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestValidationErrorMatchesErrInvalid(t *testing.T) {
	ve := &roadmap.ValidationError{Fields: []roadmap.FieldError{{Field: "title", Message: "is required"}}}
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{name: "a validation error is ErrInvalid", err: ve, target: roadmap.ErrInvalid, want: true},
		{name: "a wrapped validation error is ErrInvalid", err: fmt.Errorf("propose: %w", ve), target: roadmap.ErrInvalid, want: true},
		{name: "a validation error is not ErrConflict", err: ve, target: roadmap.ErrConflict, want: false},
		{name: "a validation error is not ErrNotFound", err: ve, target: roadmap.ErrNotFound, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestValidationErrorMessageListsEveryField(t *testing.T) {
	_, err := roadmap.DecideDefineObjective(roadmap.DefineObjective{Title: "t", Product: "Bad Slug"})
	var ve *roadmap.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	got := ve.Error()
	want := "invalid: kpi: is required and must not be blank; target: is required and must not be blank; product: " + ve.Fields[2].Message
	if got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
