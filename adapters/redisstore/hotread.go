package redisstore

import (
	"github.com/redis/go-redis/v9"
)

// autoPipeliner is what *redis.Client (one node or Sentinel),
// *redis.ClusterClient and *redis.Ring have in common: go-redis's automatic
// pipelining.
type autoPipeliner interface {
	AutoPipelineWithOptions(*redis.AutoPipelineOptions) (*redis.AutoPipeliner, error)
}

// Automatic pipelining of the single commands and scripts of every
// request (the session and token reads, the logins' scripts, the claims,
// the rate limit): concurrent requests share one write and one read of a
// connection instead of one each. On the cached path that was half of the
// service's CPU in system calls, and a quarter of a core in redis-server.
//
// Batches run side by side (each caller waits for its own command, so
// the order between callers does not matter), so that a stalled batch,
// bounded by the client's read and write timeouts, does not hold the
// commands behind it; past autoPipelineQueue commands waiting, a command
// fails at once (EUNAVAILABLE) instead of taking more memory.
//
// A command's context deadline is not honoured once it is queued (the
// batch runs on the pipeliner's own), so every command is bounded by the
// client's read and write timeouts instead, which ParseURL sets to the op
// timeout. Transactions (WATCH … MULTI) never go through it.
const (
	autoPipelineBatches = 8
	autoPipelineQueue   = 8192
)

func autoPipelineOptions() *redis.AutoPipelineOptions {
	return &redis.AutoPipelineOptions{
		MaxBatchSize:         300,
		MaxConcurrentBatches: autoPipelineBatches,
		Unordered:            true,
		MaxQueuedCommands:    autoPipelineQueue,
	}
}

// batched returns what a store's single commands go through: the
// client's automatic pipeliner (one per client, shared by every store on
// it), or the client itself when it has none.
func batched(client redis.UniversalClient) redis.Cmdable {
	if c, ok := client.(autoPipeliner); ok {
		if ap, err := c.AutoPipelineWithOptions(autoPipelineOptions()); err == nil {
			return ap
		}
	}
	return client
}
