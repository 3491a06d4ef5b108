package api

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// decodeStrict decodes one JSON object into dst with the JSON v2 decoder,
// whose defaults are the strictness an API wants: a name given twice,
// invalid UTF-8 and unpaired surrogate escapes are syntax errors, and names
// match exactly ("TITLE" is not "title"). Malformed (400): an empty body,
// anything but an object, a syntax error, data after the object, an unknown
// field. Invalid (422): a value of the wrong type.
func decodeStrict(body []byte, dst any) error {
	malformed := func(format string, args ...any) error {
		return problem(ErrMalformedBody, fmt.Sprintf(format, args...))
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return malformed("the request body is empty; send a JSON object")
	case !utf8.Valid(body):
		return malformed("the request body is not valid UTF-8")
	case trimmed[0] != '{':
		return malformed("the request body must be a JSON object")
	case tooDeep(body):
		return malformed("the request body nests more than %d levels of objects and arrays", maxBodyDepth)
	}
	err := jsonv2.Unmarshal(body, dst, jsonv2.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	var syntax *jsontext.SyntacticError
	var semantic *jsonv2.SemanticError
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName) && errors.As(err, &syntax):
		return malformed("field %q is given twice", clip(fieldPath(syntax.JSONPointer)))
	case errors.As(err, &syntax):
		if syntax.Err != nil && strings.Contains(syntax.Err.Error(), "surrogate") {
			return malformed("the request body has an unpaired UTF-16 surrogate escape near byte %d", syntax.ByteOffset)
		}
		if syntax.Err != nil && strings.Contains(syntax.Err.Error(), "after top-level value") {
			return malformed("the request body has data after the JSON object")
		}
		return malformed("the request body is not valid JSON (near byte %d)", syntax.ByteOffset)
	case errors.Is(err, jsonv2.ErrUnknownName) && errors.As(err, &semantic):
		return malformed("unknown field %q", clip(fieldPath(semantic.JSONPointer)))
	case errors.As(err, &semantic) && semantic.JSONPointer != "":
		return problem(roadmap.ErrInvalid, fmt.Sprintf("%s: must be %s", clip(fieldPath(semantic.JSONPointer)), describeType(semantic.GoType)))
	}
	return malformed("the request body does not fit this request")
}

// maxBodyDepth is how deep objects and arrays may nest in a request body:
// no request needs more than 3, and a limit keeps a pathological body from
// costing a decoder its stack.
const maxBodyDepth = 16

// tooDeep reports whether body nests objects and arrays more than
// maxBodyDepth levels deep. A syntax error ends the scan: the decoder
// reports it.
func tooDeep(body []byte) bool {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	for {
		if _, err := dec.ReadToken(); err != nil {
			return false
		}
		if dec.StackDepth() > maxBodyDepth {
			return true
		}
	}
}

// fieldPath turns a JSON pointer into the field names the API's errors use:
// "/score/impact" is "score.impact", "/evidence/1" is "evidence[1]".
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		switch {
		case tok != "" && strings.Trim(tok, "0123456789") == "":
			b.WriteString("[" + tok + "]")
		case b.Len() > 0:
			b.WriteString("." + tok)
		default:
			b.WriteString(tok)
		}
	}
	return b.String()
}

func describeType(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "of another type"
}
