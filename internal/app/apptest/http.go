package apptest

import (
	"io"
	"net/http"
	"testing"
)

// Do sends req with the default client, failing the test when it cannot be
// sent, and reads the whole answer. It returns the answer, whose body it has
// closed, what it read and the error reading ended with, if any.
func Do(tb testing.TB, req *http.Request) (res *http.Response, body []byte, readErr error) {
	tb.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, readErr = io.ReadAll(res.Body)
	return res, body, readErr
}
