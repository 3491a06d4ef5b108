package api

import (
	"strconv"
	"strings"

	"github.com/roadmap-ledger/roadmap/projections"
)

// itemPageJSON is a page of GET /v1/items.
type itemPageJSON struct {
	// Sequence is the ledger position the page was read at; every page
	// after the first is read at the first's.
	Sequence uint64     `json:"sequence"`
	Items    []itemJSON `json:"items"`
	// Total is how many items pass the filters, on every page.
	Total      int     `json:"total"`
	NextCursor *string `json:"next_cursor"`
}

// objectivePageJSON is a page of GET /v1/objectives.
type objectivePageJSON struct {
	Sequence   uint64          `json:"sequence"`
	Objectives []objectiveJSON `json:"objectives"`
	Total      int             `json:"total"`
	NextCursor *string         `json:"next_cursor"`
}

// itemWithFlags is an item as GET /v1/items/{id} shows it, with the flags
// of the state it was read from.
func itemWithFlags(v projections.ItemView, flags []projections.Flag) itemJSON {
	item := itemAnswer(v)
	if flags != nil {
		item.Flags = wireList(flags, flagWire)
	}
	return item
}

// backlogRow is an item as a row of the backlog's CSV, in the order of
// backlogColumns. A null is an empty cell; lists hold one entry a line;
// text a spreadsheet could run is made safe (safeCell).
func backlogRow(v projections.ItemView) []string {
	it := v.Item
	var horizon, rank, score, effort string
	if v.Rank > 0 {
		horizon, rank = string(it.Horizon), strconv.Itoa(v.Rank)
	}
	if it.Score != nil {
		score = strconv.FormatFloat(it.Score.Value, 'f', -1, 64)
	}
	if e := it.Effort(); e != nil {
		effort = strconv.Itoa(*e)
	}
	var source, externalID, importID string
	if p := it.Provenance; p != nil {
		source, externalID, importID = p.Source, p.ExternalID, p.ImportID
	}
	list := func(entries []string) string { return safeCell(strings.Join(entries, CSVListSeparator)) }
	return []string{
		it.ID, safeCell(it.Title), safeCell(it.Description), string(it.Kind), it.Product, string(it.Status), horizon, rank, score,
		list(it.ObjectiveIDs), it.ParentID, effort, list(it.DependsOn()), list(it.Risks()),
		safeCell(source), safeCell(externalID), safeCell(importID), strconv.FormatUint(v.Version, 10),
	}
}
