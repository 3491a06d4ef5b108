package projections

// recentAnswers is how many of the last events' aggregates are remembered as
// they stood right after each, for answering a write when another decision
// on the same aggregate has landed since.
const recentAnswers = 1024

// recentAnswer is an aggregate right after one event: views are never
// changed in place, so keeping the pointer costs nothing.
type recentAnswer struct {
	seq       uint64
	objective *ObjectiveView
	item      *ItemView
	review    *ReviewView
	rank      uint32
}

func (c *Current) remember(ev Event, to packedPlace) {
	id := ev.Envelope.AggregateID
	a := recentAnswer{seq: ev.Sequence, rank: to.rank()}
	switch ev.Envelope.AggregateType {
	case "objective":
		a.objective = c.state.objectives[id]
	case "item":
		a.item = c.state.items[id]
	case "review":
		a.review = c.state.reviews[id]
	}
	c.recent[ev.Sequence%recentAnswers] = a
}

// recentAt returns what is remembered of the event at seq, if it is among
// the last events applied.
func (c *Current) recentAt(seq uint64) (recentAnswer, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a := c.recent[seq%recentAnswers]
	return a, a.seq == seq
}

// RecentObjective returns the objective of the event at seq as it stood
// right after it, if seq is among the last events applied and was on an
// objective.
func (c *Current) RecentObjective(seq uint64) (ObjectiveView, bool) {
	if a, ok := c.recentAt(seq); ok && a.objective != nil {
		return *a.objective, true
	}
	return ObjectiveView{}, false
}

// RecentItem returns the item of the event at seq as it stood right after
// it, rank included, if seq is among the last events applied and was on an
// item.
func (c *Current) RecentItem(seq uint64) (ItemView, bool) {
	if a, ok := c.recentAt(seq); ok && a.item != nil {
		v := *a.item
		v.Rank = int(a.rank)
		return v, true
	}
	return ItemView{}, false
}

// RecentReview returns the review of the event at seq as it stood right
// after it, if seq is among the last events applied and was on a review.
func (c *Current) RecentReview(seq uint64) (ReviewView, bool) {
	if a, ok := c.recentAt(seq); ok && a.review != nil {
		return *a.review, true
	}
	return ReviewView{}, false
}
