package api

// The backlog as CSV: the columns GET /v1/items writes with Accept: text/csv
// and POST /v1/imports?format=roadmap reads, so a list exported, edited in
// a spreadsheet and imported again is a round trip. This is the one place
// that names them.
//
// A header row names the columns, in any order; title is the only one an
// import requires. Lists (objective_ids, depends_on, risks) hold one entry
// per line of the cell, as the audit trail's CSV does (CSVListSeparator);
// an import also takes ids separated by ";" or spaces. Cells a spreadsheet
// would run as a formula are written with a leading apostrophe (safeCell),
// which an import takes off again.
const (
	colID           = "id"
	colTitle        = "title"
	colDescription  = "description"
	colKind         = "kind"
	colProduct      = "product"
	colStatus       = "status"
	colHorizon      = "horizon"
	colRank         = "rank"
	colScore        = "score"
	colObjectiveIDs = "objective_ids"
	colParentID     = "parent_id"
	colEffort       = "effort"
	colDependsOn    = "depends_on"
	colRisks        = "risks"
	colSource       = "source"
	colExternalID   = "external_id"
	colImportID     = "import_id"
	colVersion      = "version"
)

// backlogColumns are the columns of the backlog's CSV, in the order the list
// writes them.
var backlogColumns = []string{
	colID, colTitle, colDescription, colKind, colProduct, colStatus, colHorizon, colRank, colScore,
	colObjectiveIDs, colParentID, colEffort, colDependsOn, colRisks, colSource, colExternalID, colImportID, colVersion,
}

// backlogReadOnlyColumns are written by the list for the reader's sake and
// ignored by an import: the ledger decides them (a status follows from
// decisions, a score from a prioritisation framework, a version from the
// log).
var backlogReadOnlyColumns = []string{colStatus, colScore, colSource, colImportID, colVersion}
