package api_test

// The hostile catalogue sends the API requests built to break it: malformed
// and absurdly nested JSON, bodies larger than the limit or than they say,
// wrong media types, invalid UTF-8 and control characters in bodies, headers,
// query strings and paths, unknown and duplicate fields, path traversal,
// numbers out of range, tokens in the wrong place, overlong headers and a
// method override. It proves that each one is refused with a 4xx answer
// (application/problem+json wherever the server, not Go's HTTP layer, owns
// the answer), never a 5xx, never records anything in the log, never tells
// the client about the server's insides nor echoes a secret or a huge input
// back; and that the server still serves normally after all of them.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hostileRequest is one request of the catalogue.
type hostileRequest struct {
	name string
	// send makes the request and returns the answer.
	send func(t *testing.T) response
	// status is the status the answer must have; 0 takes any 4xx.
	status int
	// byNetHTTP marks a request Go's HTTP server refuses before the API
	// sees it: its plain-text 4xx is accepted in place of a problem.
	byNetHTTP bool
	// secret must not appear in the answer.
	secret string
}

// maxHostileAnswer bounds the answer to any hostile request: a problem says
// what to fix; it does not send a huge input back.
const maxHostileAnswer = 4 << 10

// leakPatterns are signs of the server's insides in an answer.
var leakPatterns = regexp.MustCompile(`(?i)goroutine|\bnats\b|jetstream|panic|stack trace|\.go:\d|runtime\.|github\.com/|/usr/|/home/|GOROOT|GOPATH|` +
	`(?-i:json: |\*?(api|roadmap|eventlog|projections|ledger|echo|reflect|errors|http)\.[A-Z][A-Za-z]*|<nil>|0x[0-9a-f]{6,})`)

// rawAnswer sends bytes written by write over a fresh TCP connection to the
// server and reads one answer, as a client that is not Go's would.
// closeWrite half-closes the connection once write is done, so a server
// waiting for more of a body sees its end.
func rawAnswer(t *testing.T, base string, write func(w io.Writer), closeWrite bool) response {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	go func() {
		// The server may answer and hang up before reading everything; the
		// errors that follow are the point.
		write(conn)
		if closeWrite {
			_ = conn.(*net.TCPConn).CloseWrite()
		}
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read answer: %v (the server hung up without answering)", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		t.Fatalf("read answer body: %v", err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: body}
}

// TestHostileRequestsAreRefusedSafely walks the hostile catalogue.
func TestHostileRequestsAreRefusedSafely(t *testing.T) {
	l := startLedger(t)
	objective := l.objective("Hostile objective")
	item := l.item("Hostile target", objective)
	review := l.must(201, "POST", "/v1/reviews", map[string]any{"period": nextMonth(), "title": "November board"})["id"].(string)

	const secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.dGhpcy1pcy1zZWNyZXQ"
	const idea = `{"title":"Hostile idea","kind":"idea"}`
	prioritise := "/v1/items/" + item + "/prioritise"
	prio := func(fields string) string { return `{"horizon":"now","rationale":"r",` + fields + `}` }

	// req sends a request through the spec-checking client.
	req := func(method, path string, body any, headers ...string) func(t *testing.T) response {
		return func(t *testing.T) response {
			t.Helper()
			return l.do(method, path, body, headers...)
		}
	}
	// raw sends bytes as they are.
	raw := func(request string) func(t *testing.T) response {
		return func(t *testing.T) response {
			t.Helper()
			return rawAnswer(t, l.URL, func(w io.Writer) { _, _ = io.WriteString(w, request) }, false)
		}
	}
	// auth is the header line of the admin's token: a raw request carries
	// it so that what it tests is reached, not the 401 of a request
	// without a token.
	const auth = "Authorization: Bearer " + adminSecret + "\r\n"
	// post is a raw POST of a JSON body with extra header lines.
	post := func(path, body string, headerLines ...string) string {
		h := ""
		for _, line := range headerLines {
			h += line + "\r\n"
		}
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: ledger\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n%s", path, auth, len(body), h, body)
	}
	get := func(target string, headerLines ...string) string {
		h := ""
		for _, line := range headerLines {
			h += line + "\r\n"
		}
		return "GET " + target + " HTTP/1.1\r\nHost: ledger\r\n" + auth + h + "Connection: close\r\n\r\n"
	}
	// A token of the ledger's own, as a secret that must not be echoed.
	editor := l.token("hostile editor", "editor")

	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	big := strings.Repeat("x", 2<<20)
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte('&')
			}
			fmt.Fprintf(&b, "p%d=%d", i, i)
		}
		return b.String()
	}

	cases := []hostileRequest{
		// Malformed and deeply nested JSON.
		{name: "A body that stops inside a string is malformed", send: req("POST", "/v1/objectives", `{"title":"abc`), status: 400},
		{name: "A hundred thousand nested arrays are refused without exhausting the stack", send: req("POST", "/v1/items", deep("[", "]", 100000)), status: 400},
		{name: "Fifty thousand nested objects inside a known field are refused", send: req("POST", prioritise, `{"score":`+deep(`{"a":`, "}", 50000)+`}`), status: 400},
		{name: "A JSON null is not an object, even where every field is optional", send: req("POST", "/v1/reviews/"+review+"/close", `null`), status: 400},
		{name: "Two objects back to back are refused", send: req("POST", "/v1/items", idea+idea), status: 400},
		{name: "A JavaScript comment after the object is refused", send: req("POST", "/v1/items", idea+" // the end"), status: 400},
		{name: "Single-quoted pseudo-JSON is refused", send: req("POST", "/v1/items", `{'title':'t','kind':'idea'}`), status: 400},
		{name: "NaN as a bare literal is not JSON", send: req("POST", prioritise, prio(`"rank":NaN`)), status: 400},
		{name: "A byte order mark before the object is refused", send: req("POST", "/v1/items", "\ufeff"+idea), status: 400},

		// Huge bodies.
		{name: "A body of 2 MiB of whitespace after a valid object is too large", send: req("POST", "/v1/items", idea+strings.Repeat(" ", 2<<20)), status: 413},
		{name: "A 2 MiB rationale is too large", send: req("POST", prioritise, prio(`"evidence":["`+big+`"]`)), status: 413},
		{name: "A huge body behind a small Content-Length is read only as far as declared", send: func(t *testing.T) response {
			return rawAnswer(t, l.URL, func(w io.Writer) {
				_, _ = io.WriteString(w, "POST /v1/items HTTP/1.1\r\nHost: ledger\r\n"+auth+"Content-Type: application/json\r\nContent-Length: 12\r\n\r\n")
				_, _ = io.WriteString(w, `{"title":"t"`+strings.Repeat("A", 2<<20))
			}, false)
		}, status: 400},
		{name: "A chunked body that never ends is cut off at the limit", send: func(t *testing.T) response {
			return rawAnswer(t, l.URL, func(w io.Writer) {
				_, _ = io.WriteString(w, "POST /v1/items HTTP/1.1\r\nHost: ledger\r\n"+auth+"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
				chunk := strings.Repeat("x", 64<<10)
				_, _ = fmt.Fprintf(w, "%x\r\n%s\r\n", len(`{"title":"`), `{"title":"`)
				for range 48 { // 3 MiB, and never the last chunk
					if _, err := fmt.Fprintf(w, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
						return
					}
				}
			}, false)
		}, status: 413},
		{name: "A chunk size that is not hexadecimal is a body that cannot be read", send: raw("POST /v1/items HTTP/1.1\r\nHost: ledger\r\n" + auth + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"), status: 400},
		{name: "A body shorter than its Content-Length is refused once the client stops sending", send: func(t *testing.T) response {
			return rawAnswer(t, l.URL, func(w io.Writer) {
				_, _ = io.WriteString(w, "POST /v1/items HTTP/1.1\r\nHost: ledger\r\n"+auth+"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"+idea)
			}, true)
		}, status: 400},
		{name: "A declared Content-Length of 10 GiB is cut off at the limit", send: func(t *testing.T) response {
			return rawAnswer(t, l.URL, func(w io.Writer) {
				_, _ = io.WriteString(w, "POST /v1/items HTTP/1.1\r\nHost: ledger\r\n"+auth+"Content-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n{\"title\":\"")
				_, _ = io.WriteString(w, big)
			}, false)
		}, status: 413},
		{name: "With both Content-Length and chunked framing, the chunked body is the one read", send: raw("POST /v1/items HTTP/1.1\r\nHost: ledger\r\n" + auth + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 38\r\nConnection: close\r\n\r\n2\r\n[]\r\n0\r\n\r\n"), status: 400},
		{name: "A Content-Length that is not a number is refused by net/http", send: raw("POST /v1/items HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\nContent-Length: 12abc\r\n\r\n" + idea), status: 400, byNetHTTP: true},
		{name: "Two different Content-Lengths are refused by net/http", send: raw("POST /v1/items HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 38\r\n\r\n" + idea), status: 400, byNetHTTP: true},
		{name: "A negative Content-Length is refused by net/http", send: raw("POST /v1/items HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n" + idea), status: 400, byNetHTTP: true},

		// Wrong and missing content types.
		{name: "A write without a Content-Type is unsupported", send: req("POST", "/v1/items", idea, "Content-Type", ""), status: 415},
		{name: "application/jsonp is not JSON", send: req("POST", "/v1/items", idea, "Content-Type", "application/jsonp"), status: 415},
		{name: "A Content-Type whose parameters do not parse is unsupported", send: req("POST", "/v1/items", idea, "Content-Type", "application/json; charset"), status: 415},
		{name: "A multipart form is unsupported", send: req("POST", "/v1/items", "--b\r\n\r\n"+idea+"\r\n--b--", "Content-Type", "multipart/form-data; boundary=b"), status: 415},
		{name: "A UTF-16 body sent as JSON is malformed", send: req("POST", "/v1/items", []byte("{\x00\"\x00t\x00\"\x00:\x001\x00}\x00"), "Content-Type", "application/json; charset=utf-16le"), status: 400},
		{name: "A Content-Type with a NUL byte is refused by net/http", send: raw(post("/v1/items", idea, "Content-Type: application/json\x00")), status: 400, byNetHTTP: true},

		// Invalid UTF-8.
		{name: "Invalid UTF-8 in a field name is malformed", send: req("POST", "/v1/items", []byte("{\"\xff\xfe\":1}")), status: 400},
		{name: "An overlong encoding of a slash is malformed", send: req("POST", "/v1/items", []byte("{\"title\":\"\xc0\xaf\",\"kind\":\"idea\"}")), status: 400},
		{name: "A lone surrogate escape is not silently replaced", send: req("POST", "/v1/items", `{"title":"\ud800","kind":"idea"}`), status: 400},
		{name: "Invalid UTF-8 in X-Actor is a bad header", send: req("POST", "/v1/items", idea, "X-Actor", "pm\xff\xfe@example.com"), status: 400},
		{name: "Invalid UTF-8 in Idempotency-Key is a bad header", send: req("POST", "/v1/items", idea, "Idempotency-Key", "key-\xff"), status: 400},
		{name: "Invalid UTF-8 in the roadmap's query is a bad query", send: req("GET", "/v1/roadmap?product=%ff%fe", nil), status: 400},
		{name: "Raw invalid UTF-8 bytes in the query string are a bad query", send: raw(get("/v1/roadmap?view=\xff\xfe")), status: 400},
		{name: "Invalid UTF-8 in an item id is not found", send: req("GET", "/v1/items/%ff%fe%fd", nil), status: 404},
		{name: "Raw invalid UTF-8 bytes in a path segment are not found", send: raw(get("/v1/items/\xff\xfe/history")), status: 404},
		{name: "Invalid UTF-8 as the audit's actor is a bad query", send: req("GET", "/v1/audit?actor=%c3%28", nil), status: 400},

		// Unknown fields and duplicate keys.
		{name: "An unknown field in a review is refused", send: req("POST", "/v1/reviews", `{"period":"2026-12","title":"t","owner":"me"}`), status: 400},
		{name: "A duplicate key is refused rather than the last one silently winning", send: req("POST", "/v1/items", `{"title":"Harmless","kind":"idea","title":"Replaced"}`), status: 400},
		{name: "A field name in another case is a field the API does not know", send: req("POST", "/v1/items", `{"TITLE":"t","Kind":"idea"}`), status: 400},
		{name: "A __proto__ field is an unknown field", send: req("POST", "/v1/items", `{"title":"t","kind":"idea","__proto__":{"admin":true}}`), status: 400},

		// Path traversal.
		{name: "Dot segments in the path reach nothing", send: raw(get("/v1/items/../../../etc/passwd")), status: 404},
		{name: "Encoded dot segments reach nothing", send: req("GET", "/v1/items/%2e%2e%2f%2e%2e%2fetc%2fpasswd", nil), status: 404},
		{name: "Double-encoded dot segments reach nothing", send: req("GET", "/v1/items/%252e%252e%252f%252e%252e%252fetc%252fpasswd", nil), status: 404},
		{name: "Backslash dot segments reach nothing", send: req("GET", "/v1/objectives/..%5c..%5cwindows%5cwin.ini", nil), status: 404},
		{name: "A traversal in a write's path decides nothing", send: req("POST", "/v1/items/..%2f..%2fobjectives/prioritise", prio(`"rank":1`)), status: 404},
		{name: "An encoded NUL as an item id is not found", send: req("GET", "/v1/items/%00/why", nil), status: 404},
		{name: "An asterisk request target is no resource", send: raw("GET * HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n\r\n"), status: 404},
		{name: "An absolute-form target naming another host reaches only this API's routes", send: raw("GET http://internal.example/v1/admin HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n\r\n"), status: 404},
		{name: "A fragment in the request target matches no route", send: raw("GET /v1/roadmap#x HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n\r\n"), status: 404},
		{name: "A raw NUL in the request line is refused by net/http", send: raw("GET /v1/items/\x00 HTTP/1.1\r\nHost: ledger\r\n\r\n"), status: 400, byNetHTTP: true},

		// Numbers out of range.
		{name: "Rank 1e400 is not an integer", send: req("POST", prioritise, prio(`"rank":1e400`)), status: 422},
		{name: "Rank -0 is rank 0, which is not a rank", send: req("POST", prioritise, prio(`"rank":-0`)), status: 422},
		{name: "Rank 9223372036854775808 overflows 64 bits", send: req("POST", prioritise, prio(`"rank":9223372036854775808`)), status: 422},
		{name: "Rank -9223372036854775809 overflows 64 bits", send: req("POST", prioritise, prio(`"rank":-9223372036854775809`)), status: 422},
		{name: "Rank NaN as a string is the wrong type", send: req("POST", prioritise, prio(`"rank":"NaN"`)), status: 422},
		{name: "A RICE reach of 1e400 is out of range", send: req("POST", prioritise, prio(`"score":{"framework":"rice","reach":1e400,"impact":1,"confidence":1,"effort":1}`)), status: 422},
		{name: "A WSJF input of 1e-400 underflows to zero and is out of range", send: req("POST", prioritise, prio(`"score":{"framework":"wsjf","business_value":1e-400,"time_criticality":1,"risk_reduction":1,"job_size":1}`)), status: 422},
		{name: "at_seq beyond 64 bits is a bad query", send: req("GET", "/v1/roadmap?at_seq=18446744073709551616", nil), status: 400},
		{name: "at_seq at the largest 64-bit number is beyond the ledger", send: req("GET", "/v1/roadmap?at_seq=18446744073709551615", nil), status: 422},
		{name: "An audit cursor of 2^63 is a bad query", send: req("GET", "/v1/audit?after=9223372036854775808", nil), status: 400},
		{name: "An audit limit of 10^20 is a bad query", send: req("GET", "/v1/audit?limit=100000000000000000000", nil), status: 400},

		// A token in the wrong place.
		{name: "A token in the roadmap's query string is refused and not echoed", send: req("GET", "/v1/roadmap?access_token="+secret, nil), status: 400, secret: secret},
		{name: "A token in the audit's query string is refused and not echoed", send: req("GET", "/v1/audit?token="+secret, nil), status: 400, secret: secret},
		{name: "A token as the product is refused and not echoed", send: req("GET", "/v1/roadmap?product=Bearer+"+secret, nil), status: 400, secret: secret},
		{name: "A token in the body is refused and not echoed", send: req("POST", "/v1/items", `{"title":"t","kind":"idea","authorization":"Bearer `+secret+`"}`), status: 400, secret: secret},
		{name: "A token as a value of the wrong type is refused and not echoed", send: req("POST", prioritise, prio(`"rank":"Bearer `+secret+`"`)), status: 422, secret: secret},
		{name: "An Authorization header on a malformed write is not echoed", send: req("POST", "/v1/items", `{"title":`, bearer(editor)...), status: 400, secret: editor},
		{name: "A token the ledger does not know is refused and not echoed", send: req("POST", "/v1/items", idea, "Authorization", "Bearer "+secret), status: 401, secret: secret},
		{name: "A token in a Basic header is refused and not echoed", send: req("GET", "/v1/roadmap", nil, "Authorization", "Basic "+editor), status: 401, secret: editor},

		// Overlong headers.
		{name: "A 2 MiB header is refused by net/http", send: raw(get("/v1/roadmap", "X-Padding: "+big)), status: 431, byNetHTTP: true},
		{name: "An X-Actor of 64 KiB is a bad header", send: req("POST", "/v1/items", idea, "X-Actor", strings.Repeat("a", 64<<10)), status: 400},
		{name: "An Idempotency-Key of 64 KiB is a bad header", send: req("POST", "/v1/items", idea, "Idempotency-Key", strings.Repeat("k", 64<<10)), status: 400},
		{name: "An If-Match of 64 KiB of digits is a bad header", send: req("POST", prioritise, prio(`"rank":1`), "If-Match", `"`+strings.Repeat("9", 64<<10)+`"`), status: 400},
		{name: "An item id of 64 KiB is not found and not echoed whole", send: req("GET", "/v1/items/"+strings.Repeat("a", 64<<10), nil), status: 404},
		{name: "A path of 64 KiB is not found and not echoed whole", send: req("GET", "/v1/"+strings.Repeat("b", 64<<10), nil), status: 404},
		{name: "An unknown query parameter of 64 KiB is not echoed whole", send: req("GET", "/v1/roadmap?"+strings.Repeat("c", 64<<10)+"=1", nil), status: 400},
		{name: "A view of 64 KiB is not echoed whole", send: req("GET", "/v1/roadmap?view="+strings.Repeat("d", 64<<10), nil), status: 400},
		{name: "A number of 512 KiB of digits is not echoed whole", send: req("POST", prioritise, prio(`"rank":`+strings.Repeat("9", 512<<10))), status: 422},
		{name: "A method of 64 KiB is not echoed whole", send: raw(strings.Repeat("M", 64<<10) + " /v1/items HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n\r\n")},
		{name: "An unknown field name of 512 KiB is not echoed whole", send: req("POST", "/v1/items", `{"`+strings.Repeat("e", 512<<10)+`":1}`), status: 400},

		// A method override must not change the method.
		{name: "X-HTTP-Method-Override: GET does not turn a POST on an item into a read", send: req("POST", "/v1/items/"+item, idea, "X-HTTP-Method-Override", "GET"), status: 405},
		{name: "X-HTTP-Method-Override: DELETE on a write is still a POST with a bad body", send: req("POST", "/v1/items/"+item+"/remove", `{"rationale":`, "X-HTTP-Method-Override", "DELETE"), status: 400},
		{name: "X-HTTP-Method-Override: DELETE on an objective is a POST the path does not have", send: req("POST", "/v1/objectives/"+objective, `{}`, "X-HTTP-Method-Override", "DELETE", "X-Method-Override", "DELETE"), status: 405},
		{name: "A _method=DELETE query parameter does not change the method", send: req("POST", "/v1/items/"+item+"?_method=DELETE", `{}`), status: 405},
		{name: "A lower-case method is not POST", send: raw(strings.Replace(post("/v1/items", idea), "POST", "post", 1)), status: 405},

		// Null bytes and control characters.
		{name: "A NUL in X-Actor is refused by net/http", send: raw(post("/v1/items", idea, "X-Actor: pm\x00admin")), status: 400, byNetHTTP: true},
		{name: "An escape character in X-Actor is refused by net/http", send: raw(post("/v1/items", idea, "X-Actor: \x1b[31mroot\x1b[0m")), status: 400, byNetHTTP: true},
		{name: "A bare carriage return in X-Actor cannot inject a header", send: raw(post("/v1/items", idea, "X-Actor: pm\rSet-Cookie: session=1")), status: 400, byNetHTTP: true},
		{name: "A C1 control character in X-Actor is a bad header", send: req("POST", "/v1/items", idea, "X-Actor", "pm\u0085admin"), status: 400},
		{name: "A DEL in Idempotency-Key is refused by net/http", send: raw(post("/v1/items", idea, "Idempotency-Key: key\x7fkey")), status: 400, byNetHTTP: true},
		{name: "A tab inside Idempotency-Key is a bad header", send: req("POST", "/v1/items", idea, "Idempotency-Key", "key\tkey"), status: 400},
		{name: "A space inside Idempotency-Key is a bad header", send: req("POST", "/v1/items", idea, "Idempotency-Key", "key key"), status: 400},
		{name: "A NUL escape in a title is an invalid value", send: req("POST", "/v1/items", `{"title":"a\u0000b","kind":"idea"}`), status: 422},
		{name: "A raw NUL in a JSON string is malformed", send: req("POST", "/v1/items", "{\"title\":\"a\x00b\",\"kind\":\"idea\"}"), status: 400},
		{name: "A header name with a space is refused by net/http", send: raw(post("/v1/items", idea, "X Actor: pm")), status: 400, byNetHTTP: true},
		{name: "Two Host headers are refused by net/http", send: raw("GET /v1/roadmap HTTP/1.1\r\nHost: ledger\r\nHost: other\r\n\r\n"), status: 400, byNetHTTP: true},
		{name: "A request without Host in HTTP/1.1 is refused by net/http", send: raw("GET /v1/roadmap HTTP/1.1\r\n\r\n"), status: 400, byNetHTTP: true},
		{name: "An HTTP/1.0 write without Host is still decoded strictly", send: raw("POST /v1/items HTTP/1.0\r\n" + auth + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"), status: 400},
		{name: "A malformed HTTP version is refused by net/http", send: raw("GET /v1/roadmap HTTP/1\r\nHost: ledger\r\n\r\n"), status: 400, byNetHTTP: true},
		{name: "A method with a brace is refused by net/http", send: raw("P{ST /v1/items HTTP/1.1\r\nHost: ledger\r\n\r\n"), status: 400, byNetHTTP: true},

		// Hostile headers on the audit trail and a traversal in a review's diff;
		// the hostile query strings follow the table.
		{name: "An Accept of text/html on the audit trail is not acceptable", send: req("GET", "/v1/audit", nil, "Accept", "text/html"), status: 406},
		{name: "An Accept with a q of NaN on the audit trail is not acceptable", send: req("GET", "/v1/audit", nil, "Accept", "application/json;q=NaN"), status: 406},
		{name: "A diff against a traversal is not found", send: req("GET", "/v1/reviews/"+review+"/diff?against=..%2F"+review, nil), status: 404},
	}
	// Hostile query strings on the roadmap, the reviews and the audit trail:
	// each is a GET answered as a bad query.
	for _, q := range []struct{ name, target string }{
		{"as_of and at_seq together are a bad query", "/v1/roadmap?as_of=2026-11-01&at_seq=1"},
		{"A repeated product is a bad query", "/v1/roadmap?product=web&product=web"},
		{"The 30th of February is not a date", "/v1/roadmap?as_of=2026-02-30"},
		{"A NUL after the view is a bad query", "/v1/roadmap?view=objectives%00"},
		{"A malformed escape in the roadmap's query is a bad query, not ignored", "/v1/roadmap?product=%zz"},
		{"A semicolon in the roadmap's query is a bad query, not a dropped filter", "/v1/roadmap?product=web;view=objectives"},
		{"Ten thousand parameters on the roadmap are a bad query", "/v1/roadmap?" + many(10000)},
		{"A query on the list of reviews is a bad query, even malformed", "/v1/reviews?%zz"},
		{"since after until is a bad query", "/v1/audit?since=2026-12-01T00:00:00Z&until=2026-11-01T00:00:00Z"},
		{"A zero limit is a bad query", "/v1/audit?limit=0"},
		{"SQL in the type filter is a bad query", "/v1/audit?type=item.prioritised,'%3B%20DROP%20TABLE%20events%3B--"},
		{"A traversal as the audit's item is a bad query", "/v1/audit?item=..%2F..%2Fetc%2Fpasswd"},
		{"A negative cursor is a bad query", "/v1/audit?after=-1"},
		{"A malformed escape in the audit's query is a bad query", "/v1/audit?since=%zz"},
		{"A line break in since cannot inject anything", "/v1/audit?since=2026-11-01T00:00:00Z%0d%0aX-Injected:%201"},
		{"Ten thousand parameters on the audit trail are a bad query", "/v1/audit?" + many(10000)},
	} {
		cases = append(cases, hostileRequest{name: q.name, send: req("GET", q.target, nil), status: 400})
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := l.messages()
			res := tc.send(t)
			checkHostileAnswer(t, tc, res)
			if got := l.messages(); got != before {
				t.Errorf("the stream went from %d to %d events", before, got)
			}
		})
	}
	if len(cases) < 50 {
		t.Fatalf("the catalogue has %d hostile requests, want at least 50", len(cases))
	}

	// The server has survived it all and still serves.
	l.must(200, "GET", "/healthz", nil)
	l.must(200, "GET", "/readyz", nil)
	before := l.messages()
	created := l.must(201, "POST", "/v1/items", map[string]any{"title": "After the storm", "kind": "idea"}, as, "pm@example.com")
	if got := l.messages(); got != before+1 {
		t.Errorf("a normal write after the catalogue took the stream from %d to %d events, want one more", before, got)
	}
	l.must(200, "GET", "/v1/items/"+created["id"].(string), nil)
	if got := l.must(200, "GET", "/v1/items/"+item, nil); got["status"] != "proposed" {
		t.Errorf("the item the catalogue aimed at is %v, want untouched (proposed)", got["status"])
	}
}

// checkHostileAnswer checks one answer of the catalogue.
func checkHostileAnswer(t *testing.T, tc hostileRequest, res response) {
	t.Helper()
	t.Logf("answered %d %s: %.160s", res.Status, res.Header.Get("Content-Type"), res.Body)
	if res.Status >= 500 {
		t.Fatalf("status %d, a server error; body %.300s", res.Status, res.Body)
	}
	if res.Status < 400 || (tc.status != 0 && res.Status != tc.status) {
		t.Errorf("status %d, want %d; body %.300s", res.Status, tc.status, res.Body)
	}
	if m := leakPatterns.Find(res.Body); m != nil {
		t.Errorf("the answer gives away the server's insides (%q): %.300s", m, res.Body)
	}
	if tc.secret != "" && strings.Contains(string(res.Body)+fmt.Sprint(res.Header), tc.secret) {
		t.Errorf("the answer echoes the token: %.300s", res.Body)
	}
	if len(res.Body) > maxHostileAnswer {
		t.Errorf("the answer is %d bytes: it echoes the input back (%.200s…)", len(res.Body), res.Body)
	}
	if tc.byNetHTTP && res.Header.Get("Content-Type") != "application/problem+json" {
		return // Go's HTTP server answered before the API saw the request
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json; body %.300s", ct, res.Body)
		return
	}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(res.Body, &p); err != nil {
		t.Errorf("the problem is not JSON: %v: %.300s", err, res.Body)
		return
	}
	if p.Status != res.Status || p.Title != http.StatusText(res.Status) || !strings.HasPrefix(p.Type, "urn:roadmap-ledger:problem:") {
		t.Errorf("problem %+v does not match status %d", p, res.Status)
	}
}

// TestAWriteFromAHalfClosedConnectionIsAnsweredAsRecorded sends a valid write
// and half-closes the connection, as some clients and proxies do once a
// request is sent. Go's HTTP server takes the end of the client's side for
// the client going away. Whatever the answer, it must not be a 5xx, and it
// must tell the truth: a 2xx recorded exactly one event, anything else none.
func TestAWriteFromAHalfClosedConnectionIsAnsweredAsRecorded(t *testing.T) {
	l := startLedger(t)
	body := `{"title":"Sent, then the client shut its side","kind":"idea"}`
	request := fmt.Sprintf("POST /v1/items HTTP/1.1\r\nHost: ledger\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", adminSecret, len(body), body)
	before := l.messages()
	res := rawAnswer(t, l.URL, func(w io.Writer) { _, _ = io.WriteString(w, request) }, true)
	// An append the answer gave up on may still land: give it time to.
	time.Sleep(time.Second)
	recorded := l.messages() - before
	switch {
	case res.Status >= 500:
		t.Errorf("status %d (%s) and %d event(s) recorded: a valid write from a half-closed connection is a server error", res.Status, res.Body, recorded)
	case res.Status < 300 && recorded != 1:
		t.Errorf("status %d but %d events recorded, want 1", res.Status, recorded)
	case res.Status >= 300 && recorded != 0:
		t.Errorf("status %d but %d events recorded, want none", res.Status, recorded)
	}
}

// TestAnActorTheLedgerRecordsCanBeAudited checks that the bounds of token
// names, which are the actors the ledger records, and of the audit trail's
// actor filter agree: a token with the longest name the ledger takes (here
// of two bytes a character) decides, and its decisions can be looked up.
func TestAnActorTheLedgerRecordsCanBeAudited(t *testing.T) {
	l := startLedger(t)
	actor := strings.Repeat("é", 100) // 100 characters, 200 bytes
	secret := l.token(actor, "editor")
	l.must(201, "POST", "/v1/items", map[string]any{"title": "t", "kind": "idea"}, bearer(secret)...)
	audit := l.do("GET", "/v1/audit?actor="+url.QueryEscape(actor), nil)
	if audit.Status != 200 {
		t.Fatalf("the ledger recorded actor %q (%d bytes), but the audit trail refuses to look it up: %d %s", actor, len(actor), audit.Status, audit.Body)
	}
	var page struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(audit.Body, &page); err != nil || len(page.Events) != 1 {
		t.Fatalf("audit for the actor: %v, %d events, want 1", err, len(page.Events))
	}
	if page.Events[0]["actor"] != actor || page.Events[0]["type"] != "item.proposed" {
		t.Errorf("audit for the actor: %v, want the item's proposal, by %q", page.Events[0], actor)
	}
}

// TestRequestsGoAnswersWithItsOwn5xx records what Go's HTTP server, not the
// API, answers to requests it will not parse with a 5xx of its own: an
// unsupported transfer coding (501) and an HTTP version other than 1.x
// (505). The API never sees them; they must record nothing and leave the
// server serving.
func TestRequestsGoAnswersWithItsOwn5xx(t *testing.T) {
	l := startLedger(t)
	for _, tc := range []struct {
		name    string
		request string
		status  int
	}{
		{"an unsupported transfer coding", "POST /v1/items HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
		{"HTTP/2.0 in an HTTP/1 request line", "GET /v1/roadmap HTTP/2.0\r\nHost: ledger\r\n\r\n", 505},
		{"HTTP/9.9", "POST /v1/items HTTP/9.9\r\nHost: ledger\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 505},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := l.messages()
			res := rawAnswer(t, l.URL, func(w io.Writer) { _, _ = io.WriteString(w, tc.request) }, false)
			if res.Status != tc.status {
				t.Errorf("status %d, want Go's %d; body %s", res.Status, tc.status, res.Body)
			}
			if leakPatterns.Match(res.Body) {
				t.Errorf("the answer gives away the server's insides: %s", res.Body)
			}
			if got := l.messages(); got != before {
				t.Errorf("the stream went from %d to %d events", before, got)
			}
		})
	}
	l.must(200, "GET", "/healthz", nil)
	l.must(201, "POST", "/v1/items", map[string]any{"title": "Still serving", "kind": "idea"})
}
