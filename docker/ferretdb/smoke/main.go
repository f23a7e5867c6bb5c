// Command smoke checks that a MongoDB-protocol server (the FerretDB stand-in or a
// real mongod) answers real driver calls: ping, insert, find, delete, drop.
//
//	go run ./smoke -uri mongodb://127.0.0.1:27017/
//
// It exits non-zero on any failure. scripts/testworld.sh runs it after building
// the onestroke-test/ferretdb image.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func main() {
	uri := flag.String("uri", "mongodb://127.0.0.1:27017/", "MongoDB connection string")
	timeout := flag.Duration("timeout", 30*time.Second, "overall timeout")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	if err := smoke(ctx, *uri); err != nil {
		fmt.Fprintf(os.Stderr, "smoke: FAIL: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("smoke: OK (ping, insertOne, findOne, deleteOne, drop)")
}

func smoke(ctx context.Context, uri string) error {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()

	if err := client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("ping: %w", err)
	}

	coll := client.Database("testworld_smoke").Collection(fmt.Sprintf("c%d", time.Now().UnixNano()))
	defer func() { _ = coll.Drop(context.Background()) }()

	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "doc1"}, {Key: "strokes", Value: bson.A{1, 2, 3}}}); err != nil {
		return fmt.Errorf("insertOne: %w", err)
	}

	var got struct {
		ID      string  `bson:"_id"`
		Strokes []int32 `bson:"strokes"`
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "doc1"}}).Decode(&got); err != nil {
		return fmt.Errorf("findOne: %w", err)
	}
	if got.ID != "doc1" || len(got.Strokes) != 3 || got.Strokes[2] != 3 {
		return fmt.Errorf("findOne returned %+v", got)
	}

	res, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "doc1"}})
	if err != nil {
		return fmt.Errorf("deleteOne: %w", err)
	}
	if res.DeletedCount != 1 {
		return fmt.Errorf("deleteOne deleted %d documents", res.DeletedCount)
	}
	return coll.Drop(ctx)
}
