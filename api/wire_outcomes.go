package api

import (
	"time"

	"github.com/roadmap-ledger/roadmap/internal/governance"
	"github.com/roadmap-ledger/roadmap/projections"
)

// measureBody records a KPI measurement; value and at are required.
type measureBody struct {
	Value  *float64   `json:"value"`
	At     *time.Time `json:"at"`
	Source string     `json:"source"`
	Note   string     `json:"note"`
}

// measurementJSON is a KPI measurement as the API answers it.
type measurementJSON struct {
	ObjectiveID string    `json:"objective_id"`
	Value       float64   `json:"value"`
	At          time.Time `json:"at"`
	Source      string    `json:"source"`
	Note        *string   `json:"note"`
	// Sequence is the event that records it, RecordedBy and RecordedAt
	// its actor and time.
	Sequence   uint64    `json:"sequence"`
	RecordedBy string    `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

func measurementWire(m projections.Measurement) measurementJSON {
	out := measurementJSON{
		ObjectiveID: m.ObjectiveID, Value: m.Value, At: m.At, Source: m.Source,
		Sequence: m.Sequence, RecordedBy: m.RecordedBy, RecordedAt: m.RecordedAt,
	}
	if m.Note != "" {
		note := m.Note
		out.Note = &note
	}
	return out
}

// The roadmap's figures (GET /v1/metrics/roadmap); docs/metrics.md defines
// each.
type (
	metricsJSON struct {
		Product  *string       `json:"product"`
		From     time.Time     `json:"from"`
		To       time.Time     `json:"to"`
		Interval string        `json:"interval"`
		Sequence uint64        `json:"sequence"`
		Periods  []figuresJSON `json:"periods"`
		Total    figuresJSON   `json:"total"`
	}
	figuresJSON struct {
		Start             time.Time        `json:"start"`
		End               time.Time        `json:"end"`
		InNow             int              `json:"in_now"`
		DeliveredFromNow  int              `json:"delivered_from_now"`
		Delivered         int              `json:"delivered"`
		DeliveryRate      *float64         `json:"delivery_rate"`
		CycleTimeDays     *percentilesJSON `json:"cycle_time_days"`
		TimeInNowDays     *percentilesJSON `json:"time_in_now_days"`
		Reprioritisations int              `json:"reprioritisations"`
		RoadmapItems      int              `json:"roadmap_items"`
		Churn             *float64         `json:"churn"`
		ApprovalTimeHours *percentilesJSON `json:"approval_time_hours"`
		ItemsAtEnd        int              `json:"items_at_end"`
		UnalignedAtEnd    int              `json:"unaligned_at_end"`
		UnalignedShare    *float64         `json:"unaligned_share"`
		ActiveObjectives  int              `json:"active_objectives"`
		CoveredObjectives int              `json:"covered_objectives"`
		ObjectiveCoverage *float64         `json:"objective_coverage"`
		Removed           removedJSON      `json:"removed"`
	}
	percentilesJSON struct {
		P50 float64 `json:"p50"`
		P90 float64 `json:"p90"`
	}
	removedJSON struct {
		Total   int `json:"total"`
		FromNow int `json:"from_now"`
	}
)

func metricsWire(r projections.MetricsReport) metricsJSON {
	out := metricsJSON{From: r.From, To: r.To, Interval: "month", Sequence: r.Last, Periods: wireList(r.Periods, figuresWire), Total: figuresWire(r.Total)}
	if out.Periods == nil {
		out.Periods = []figuresJSON{}
	}
	if r.Product != "" {
		p := r.Product
		out.Product = &p
	}
	return out
}

func figuresWire(f projections.Figures) figuresJSON {
	return figuresJSON{
		Start: f.Start, End: f.End, InNow: f.InNow, DeliveredFromNow: f.DeliveredFromNow, Delivered: f.Delivered,
		DeliveryRate: f.DeliveryRate, CycleTimeDays: percentilesWire(f.CycleTimeDays), TimeInNowDays: percentilesWire(f.TimeInNowDays),
		Reprioritisations: f.Reprioritisations, RoadmapItems: f.RoadmapItems, Churn: f.Churn,
		ApprovalTimeHours: percentilesWire(f.ApprovalTimeHours),
		ItemsAtEnd:        f.ItemsAtEnd, UnalignedAtEnd: f.UnalignedAtEnd, UnalignedShare: f.UnalignedShare,
		ActiveObjectives: f.ActiveObjectives, CoveredObjectives: f.CoveredObjectives, ObjectiveCoverage: f.ObjectiveCoverage,
		Removed: removedJSON{Total: f.Removed, FromNow: f.RemovedFromNow},
	}
}

func percentilesWire(p *projections.Percentiles) *percentilesJSON {
	if p == nil {
		return nil
	}
	return &percentilesJSON{P50: p.P50, P90: p.P90}
}

// outcomesJSON is a review's figures against the previous review's.
type (
	outcomesJSON struct {
		ReviewID string                `json:"review_id"`
		Period   string                `json:"period"`
		Sequence uint64                `json:"sequence"`
		Figures  figuresJSON           `json:"figures"`
		Previous *previousOutcomesJSON `json:"previous"`
	}
	previousOutcomesJSON struct {
		ReviewID string      `json:"review_id"`
		Period   string      `json:"period"`
		Figures  figuresJSON `json:"figures"`
	}
)

func outcomesWire(o governance.Outcomes) outcomesJSON {
	out := outcomesJSON{ReviewID: o.ReviewID, Period: o.Period, Sequence: o.Sequence, Figures: figuresWire(o.Figures)}
	if p := o.Previous; p != nil {
		out.Previous = &previousOutcomesJSON{ReviewID: p.ReviewID, Period: p.Period, Figures: figuresWire(p.Figures)}
	}
	return out
}
