// Package roadmap is the domain of the ledger: objectives, items, the three
// decisions (prioritise, reprioritise, remove), scores and the rules that
// govern them. It is pure: Decide functions turn a state and a command into an
// event or an error, Evolve functions fold events into state. It uses the
// standard library only and knows nothing of storage or HTTP.
package roadmap

import (
	"errors"
	"fmt"
	"strings"
)

// The error kinds of the domain. Callers map them to answers with errors.Is.
var (
	// ErrInvalid marks a command whose values break a rule (a missing
	// rationale, an unknown horizon, a score out of range).
	ErrInvalid = errors.New("invalid")
	// ErrNotFound marks a reference to an aggregate that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict marks a command that is valid in itself but not in the
	// aggregate's current state (reprioritising a proposed item, removing a
	// removed one, a reprioritisation that changes nothing).
	ErrConflict = errors.New("conflict")
	// ErrForbidden marks a command the actor may not give whatever their
	// role: approving a change they proposed.
	ErrForbidden = errors.New("forbidden")
)

// FieldError names one field of a command and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every field of a command that breaks a rule, so a
// client can fix them all at once. It matches ErrInvalid with errors.Is.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// Is makes a ValidationError match ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// problems collects field errors while a command is checked.
type problems struct{ fields []FieldError }

func (p *problems) add(field, format string, args ...any) {
	p.fields = append(p.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: p.fields}
}

// ErrUnchanged marks an edit that changes nothing: invalid as a request
// (it matches ErrInvalid), an unchanged row to an import.
var ErrUnchanged = fmt.Errorf("%w: the edit changes nothing", ErrInvalid)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func conflictf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConflict}, args...)...)
}

func forbiddenf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrForbidden}, args...)...)
}
