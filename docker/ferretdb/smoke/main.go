// Command smoke checks that a MongoDB-protocol server (the FerretDB stand-in or a
// real mongod) answers real driver calls as the onestroke suites need them:
// ping, insert, find, delete, drop; several clients at once; and indexes created
// one per command, twice over (a second service instance against the same
// database), with a unique one that refuses a duplicate.
//
//	go run ./smoke -uri mongodb://127.0.0.1:27017/
//
// It exits non-zero on any failure. scripts/testworld.sh runs it after building
// the onestroke-test/ferretdb image.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// clients is how many connect at once: a service instance holds a pool,
// and two instances share the server.
const clients = 4

func main() {
	uri := flag.String("uri", "mongodb://127.0.0.1:27017/", "MongoDB connection string")
	timeout := flag.Duration("timeout", 60*time.Second, "overall timeout")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	if err := smoke(ctx, *uri); err != nil {
		fmt.Fprintf(os.Stderr, "smoke: FAIL: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("smoke: OK (ping, insertOne, findOne, deleteOne, drop; %d clients at once; createIndexes one per command, twice; a unique index)\n", clients)
}

func smoke(ctx context.Context, uri string) error {
	name := fmt.Sprintf("c%d", time.Now().UnixNano())
	var wg sync.WaitGroup
	errs := make([]error, clients)
	for i := range errs {
		wg.Go(func() { errs[i] = client(ctx, uri, name, i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = c.Disconnect(context.Background()) }()
	coll := c.Database("testworld_smoke").Collection(name)
	n, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("countDocuments: %w", err)
	}
	if n != clients {
		return fmt.Errorf("%d documents after %d clients each kept one", n, clients)
	}
	return coll.Drop(ctx)
}

// client is one client's share: its indexes (one per command, as
// adapters/mongostore creates them; every client after the first meets them
// existing), one document of its own kept, another inserted, found and deleted.
func client(ctx context.Context, uri, name string, i int) error {
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		return fmt.Errorf("client %d: connect: %w", i, err)
	}
	defer func() { _ = c.Disconnect(context.Background()) }()
	if err := c.Ping(ctx, nil); err != nil {
		return fmt.Errorf("client %d: ping: %w", i, err)
	}
	coll := c.Database("testworld_smoke").Collection(name)
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "owner", Value: 1}, {Key: "key", Value: 1}}, Options: options.Index().SetName("owner_key").SetUnique(true)},
		{Keys: bson.D{{Key: "owner", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("owner_at")},
	} {
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("client %d: createIndexes %v: %w", i, m.Keys, err)
		}
	}
	kept := bson.D{{Key: "_id", Value: fmt.Sprintf("kept%d", i)}, {Key: "owner", Value: "o"}, {Key: "key", Value: fmt.Sprintf("k%d", i)}, {Key: "at", Value: i}}
	if _, err := coll.InsertOne(ctx, kept); err != nil {
		return fmt.Errorf("client %d: insertOne: %w", i, err)
	}
	id := fmt.Sprintf("doc%d", i)
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: "p"}, {Key: "key", Value: id}, {Key: "strokes", Value: bson.A{1, 2, 3}}}); err != nil {
		return fmt.Errorf("client %d: insertOne: %w", i, err)
	}
	var got struct {
		ID      string  `bson:"_id"`
		Strokes []int32 `bson:"strokes"`
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "owner", Value: "p"}, {Key: "key", Value: id}}).Decode(&got); err != nil {
		return fmt.Errorf("client %d: findOne: %w", i, err)
	}
	if got.ID != id || len(got.Strokes) != 3 || got.Strokes[2] != 3 {
		return fmt.Errorf("client %d: findOne returned %+v", i, got)
	}
	dup := bson.D{{Key: "_id", Value: "dup" + id}, {Key: "owner", Value: "p"}, {Key: "key", Value: id}}
	if _, err := coll.InsertOne(ctx, dup); !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("client %d: a duplicate of a unique index's key answered %v, not a duplicate key error", i, err)
	}
	res, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return fmt.Errorf("client %d: deleteOne: %w", i, err)
	}
	if res.DeletedCount != 1 {
		return fmt.Errorf("client %d: deleteOne deleted %d documents", i, res.DeletedCount)
	}
	return nil
}
