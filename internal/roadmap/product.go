package roadmap

// TypeCapacitySet is the event type of a product's capacity per horizon.
// Its aggregate type is "product", with the product's slug as its id.
const TypeCapacitySet = "product.capacity_set"

// Capacity is how many effort points a product can commit per horizon; nil
// means not set.
type Capacity struct {
	Now   *int `json:"now"`
	Next  *int `json:"next"`
	Later *int `json:"later"`
}

// Of returns the capacity of horizon h.
func (c Capacity) Of(h Horizon) *int {
	switch h {
	case Now:
		return c.Now
	case Next:
		return c.Next
	}
	return c.Later
}

// CapacitySet records a product's capacity per horizon, replacing the last.
type CapacitySet struct {
	Capacity
}

// EventType implements Event.
func (CapacitySet) EventType() string { return TypeCapacitySet }

// ValidProduct reports whether s is a product slug.
func ValidProduct(s string) bool { return productPattern.MatchString(s) }

// DecideSetCapacity checks a product's capacity. It returns ErrInvalid for a
// negative or huge figure.
func DecideSetCapacity(c Capacity) (*CapacitySet, error) {
	var p problems
	for _, h := range Horizons {
		if v := c.Of(h); v != nil && (*v < 0 || *v > maxEffort) {
			p.add(string(h), "must be effort points from 0 to %d, or null for no limit", maxEffort)
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return &CapacitySet{Capacity: c}, nil
}
