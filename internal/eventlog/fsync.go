package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// ErrNoFsync means the ledger could not confirm that every NATS server
// fsyncs each write before acknowledging it, so an acknowledged decision could
// be lost in a power cut. Run with UnsafeNoFsync only where that is accepted.
var ErrNoFsync = errors.New("cannot confirm that every write is synced to disk")

// verifyFsync asks every server of the cluster behind systemURL (a
// connection in the system account) for its JetStream configuration and
// checks that each one syncs every write (jetstream { sync_interval: always }).
func verifyFsync(systemURL string, opts ...nats.Option) error {
	if systemURL == "" {
		return fmt.Errorf("%w: the ledger needs a system-account connection to the cluster to check it "+
			"(--nats-system-url), or --unsafe-no-fsync to run without that guarantee", ErrNoFsync)
	}
	nc, err := nats.Connect(systemURL, append(opts, nats.Name("roadmap-ledger-fsync-check"))...)
	if err != nil {
		return fmt.Errorf("%w: connect to the system account: %v", ErrNoFsync, err)
	}
	defer nc.Close()
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoFsync, err)
	}
	if err := nc.PublishRequest("$SYS.REQ.SERVER.PING.VARZ", inbox, nil); err != nil {
		return fmt.Errorf("%w: ask the servers: %v", ErrNoFsync, err)
	}
	var syncing, notSyncing []string
	for deadline := time.Now().Add(2 * time.Second); ; {
		msg, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			break
		}
		var answer struct {
			Server struct {
				Name string `json:"name"`
			} `json:"server"`
			Data struct {
				JetStream struct {
					Config *struct {
						SyncAlways bool `json:"sync_always"`
					} `json:"config"`
				} `json:"jetstream"`
			} `json:"data"`
		}
		if err := json.Unmarshal(msg.Data, &answer); err != nil {
			continue
		}
		switch cfg := answer.Data.JetStream.Config; {
		case cfg == nil:
			// A server without JetStream holds no replica.
		case cfg.SyncAlways:
			syncing = append(syncing, answer.Server.Name)
		default:
			notSyncing = append(notSyncing, answer.Server.Name)
		}
	}
	slices.Sort(notSyncing)
	switch {
	case len(notSyncing) > 0:
		return fmt.Errorf("%w: JetStream on %s does not sync every write; set jetstream { sync_interval: always } on every server",
			ErrNoFsync, strings.Join(notSyncing, ", "))
	case len(syncing) == 0:
		return fmt.Errorf("%w: no JetStream server answered on the system account connection", ErrNoFsync)
	}
	return nil
}
