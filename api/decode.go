package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxDepth is how deeply a request body may nest; the API's bodies need 3.
const maxDepth = 16

var fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// decodeStrict decodes one JSON object into dst, strictly. Malformed (400):
// an empty body, invalid UTF-8, anything but an object, a syntax error, data
// after the object, nesting deeper than maxDepth, a key that appears twice in
// one object, a key that is not a lower-case field name (the decoder would
// otherwise match "TITLE" to "title"), an unknown field, and an unpaired
// UTF-16 surrogate escape (which would silently become U+FFFD). Invalid
// (422): a value of the wrong type.
func decodeStrict(body []byte, dst any) error {
	malformed := func(format string, args ...any) error {
		return newProblem(http.StatusBadRequest, "malformed-body", fmt.Sprintf(format, args...))
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return malformed("the request body is empty; send a JSON object")
	case !utf8.Valid(body):
		return malformed("the request body is not valid UTF-8")
	case trimmed[0] != '{':
		return malformed("the request body must be a JSON object")
	}
	if err := checkStructure(body); err != nil {
		return err
	}
	if i := unpairedSurrogate(body); i >= 0 {
		return malformed("the request body has an unpaired UTF-16 surrogate escape at byte %d", i)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return newProblem(http.StatusUnprocessableEntity, "invalid-value",
				fmt.Sprintf("%s: must be %s", clip(typeErr.Field), describeType(typeErr)))
		}
		if _, name, ok := strings.Cut(err.Error(), "unknown field "); ok {
			return malformed("unknown field %s", clip(name))
		}
		return malformed("the request body does not fit this request")
	}
	return nil
}

// checkStructure walks the body's tokens once: one value, not too deep, no
// repeated or oddly spelled keys.
func checkStructure(body []byte) error {
	malformed := func(format string, args ...any) error {
		return newProblem(http.StatusBadRequest, "malformed-body", fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object  bool
		keys    map[string]bool
		wantKey bool
	}
	var stack []frame
	done := false // the top-level value is complete
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !done {
				return malformed("the request body is not valid JSON: it ends inside a value")
			}
			return nil
		}
		if err != nil {
			return malformed("the request body is not valid JSON (near byte %d)", dec.InputOffset())
		}
		if done {
			return malformed("the request body has data after the JSON object")
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:top]
				done = len(stack) == 0
				continue
			}
			key := tok.(string)
			switch {
			case !fieldName.MatchString(key):
				return malformed("unknown field %q: fields are lower-case names such as \"rationale\"", clip(key))
			case stack[top].keys[key]:
				return malformed("field %q is given twice", clip(key))
			}
			stack[top].keys[key], stack[top].wantKey = true, false
			continue
		}
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true // the value just read; a key or the end comes next
		}
		switch d, _ := tok.(json.Delim); d {
		case '{', '[':
			if len(stack) >= maxDepth {
				return malformed("the request body nests deeper than %d levels", maxDepth)
			}
			stack = append(stack, frame{object: d == '{', keys: map[string]bool{}, wantKey: d == '{'})
		case ']':
			stack = stack[:top]
			done = len(stack) == 0
		default:
			done = len(stack) == 0
		}
	}
}

// unpairedSurrogate returns the offset of a \uD800-\uDFFF escape in a JSON
// text that is not part of a high-low pair, or -1.
func unpairedSurrogate(body []byte) int {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range body[i+2 : i+6] {
			switch {
			case c >= '0' && c <= '9':
				r = r<<4 | rune(c-'0')
			case c >= 'a' && c <= 'f':
				r = r<<4 | rune(c-'a'+10)
			case c >= 'A' && c <= 'F':
				r = r<<4 | rune(c-'A'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		if !ok {
			i++ // skip the escaped character, whatever it is
			continue
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if low, ok := hex4(i + 6); ok && low >= 0xDC00 && low <= 0xDFFF {
				i += 11
				continue
			}
			return i
		case r >= 0xDC00 && r <= 0xDFFF:
			return i
		}
		i += 5
	}
	return -1
}
