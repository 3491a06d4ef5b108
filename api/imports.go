package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// MaxImportBytes is the largest file POST /v1/imports reads.
const MaxImportBytes = 10 << 20

// importBacklog imports a backlog: POST /v1/imports with a CSV body in the
// layout ?format= names (roadmap, the default, or jira), all or nothing;
// ?dry_run=true answers what it would do and records nothing. It answers
// 201 when it recorded events, and 200 for a dry run or an import that
// changed nothing. It takes no Idempotency-Key: importing the same file
// again changes nothing, which is what makes a retry safe.
func (s *Server) importBacklog(c echo.Context) error {
	q, err := queryOf(c, "dry_run", "format")
	if err != nil {
		return err
	}
	dryRun, err := oneOf(q, "dry_run", []string{"true", "false"})
	if err != nil {
		return err
	}
	format, err := oneOf(q, "format", []string{formatRoadmap, formatJira})
	if err != nil {
		return err
	}
	if format == "" {
		format = formatRoadmap
	}
	r := c.Request()
	if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != "text/csv" {
		return problem(ErrUnsupportedMediaType, "the body must be a CSV file, sent with Content-Type: text/csv")
	}
	if r.Header.Get("Idempotency-Key") != "" {
		return problem(ErrBadHeader, "an import takes no Idempotency-Key: importing the same file again changes nothing, so retry it as it is")
	}
	req := ledger.Request{}
	if req.Actor, err = actor(c); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, MaxImportBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return problem(ErrBodyTooLarge, fmt.Sprintf("the file is larger than %d bytes (10 MiB); split it", MaxImportBytes))
	}
	if err != nil {
		return problem(ErrMalformedBody, "the request body could not be read")
	}
	if err := tokenStillValid(c); err != nil {
		return err
	}
	if !utf8.Valid(body) {
		return problem(ErrMalformedBody, "the file is not valid UTF-8; save it as CSV UTF-8")
	}
	file, err := readImport(body, format)
	if err != nil {
		return err
	}
	file.DryRun = dryRun == "true"
	out, err := s.cfg.Ledger.Import(r.Context(), req, file)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if out.Appended > 0 {
		status = http.StatusCreated
	}
	return c.JSON(status, importAnswer(out))
}

// readImport reads the rows of a file in format. A header that cannot be
// read is an *roadmap.ImportError listing what is wrong with it; a row with
// the wrong number of cells is carried as a row with only that problem, so
// the answer lists it with the others.
func readImport(body []byte, format string) (ledger.ImportFile, error) {
	f, problems, err := readCSV(bytes.NewReader(body))
	if errors.Is(err, errMalformedCSV) {
		return ledger.ImportFile{}, problem(ErrMalformedBody, err.Error())
	}
	if err != nil {
		return ledger.ImportFile{}, err
	}
	file := ledger.ImportFile{Source: roadmap.SourceCSV}
	var headerProblems []roadmap.RowError
	if format == formatJira {
		file.Source = roadmap.SourceJira
		file.Rows, headerProblems = readJiraRows(f)
	} else {
		file.Rows, headerProblems = readRoadmapRows(f)
	}
	if len(headerProblems) > 0 {
		return file, &roadmap.ImportError{Rows: headerProblems}
	}
	for _, p := range problems {
		file.Rows = append(file.Rows, roadmap.ImportRow{Line: p.Line, Problems: []roadmap.RowError{p}})
	}
	return file, nil
}
