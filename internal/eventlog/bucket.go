package eventlog

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket returns the key-value bucket name of the log's JetStream, made on
// first use with file storage and the stream's replica count: state that
// is not a decision but must survive a restart (webhook delivery
// positions), kept beside the stream and never in it. It returns an error
// when the bucket cannot be made.
func (l *Log) Bucket(ctx context.Context, name string) (jetstream.KeyValue, error) {
	replicas := 1
	if info := l.stream.CachedInfo(); info != nil {
		replicas = max(info.Config.Replicas, 1)
	}
	kv, err := l.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:   l.name + "_" + name,
		Storage:  jetstream.FileStorage,
		Replicas: replicas,
		History:  1,
	})
	if err != nil {
		return nil, fmt.Errorf("key-value bucket %s: %w", name, err)
	}
	return kv, nil
}
