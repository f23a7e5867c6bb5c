//go:build integration

// Package containers runs the port contract suites and the fault tests
// against real Redis and MongoDB-protocol servers in containers.
package containers

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onestroke/onestroke/adapters/mongostore"
	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
	"github.com/onestroke/onestroke/tests/testenv"
)

var isolation atomic.Int64

// unique returns a name no other test in this run uses.
func unique(prefix string) string {
	return fmt.Sprintf("%s%d-%d", prefix, time.Now().UnixNano()%1e6, isolation.Add(1))
}

func redisStore(t *testing.T, url string, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	client, mode, err := redisstore.ParseURL(url, opts.OpTimeout)
	require.NoError(t, err)
	s := redisstore.New(client, mode, opts)
	t.Cleanup(func() { s.Close() })
	return s
}

// mongoRepo opens a repository for the correctness suites. Their bound on
// a call is generous: on a loaded machine the stand-in (FerretDB on PostgreSQL)
// can take over the default 5 s to write a 1 MiB drawing, and after a
// driver timeout FerretDB 1.24.2 stops answering new connections, failing
// every test after it. The fault suites keep the default.
func mongoRepo(t *testing.T, uri, db string) *mongostore.Repository {
	t.Helper()
	repo, err := mongostore.Open(uri, mongostore.Options{Database: db, OpTimeout: 30 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { repo.Close(context.Background()) })
	return repo
}

func TestRedisSessionStoreContract(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	porttest.TestSessionStore(t, func(t *testing.T) porttest.SessionHarness {
		// Each test gets its own key prefix: isolation without a flush.
		s := redisStore(t, srv.RedisURL(), redisstore.Options{Prefix: unique("test:") + ":"})
		return porttest.SessionHarness{Store: s, Advance: time.Sleep} // Redis keeps its own time
	})
}

func TestMongoDrawingRepositoryContract(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{})
	porttest.TestDrawingRepository(t, func(t *testing.T) ports.DrawingRepository {
		return mongoRepo(t, srv.MongoURI(), unique("db")) // a database per test
	})
}

func TestMongoProfileRepositoryContract(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{})
	porttest.TestProfileRepository(t, func(t *testing.T) ports.ProfileRepository {
		return mongoRepo(t, srv.MongoURI(), unique("db")) // a database per test
	})
}

// The stored shape is what another instance (or an operator) reads: one
// document per owner in the profiles collection of the drawings' database,
// beside the drawings, which a profile does not touch.
func TestMongoProfile_IsOneDocumentPerOwnerBesideTheDrawings(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{})
	db := unique("db")
	repo := mongoRepo(t, srv.MongoURI(), db)
	ctx := context.Background()
	nick, avatar := "一笔🎨", "https://cdn.example.com/头像.png"
	_, err := repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) {
		return cur.Apply(domain.ProfileUpdate{NickName: &nick, AvatarURL: &avatar})
	})
	require.NoError(t, err)
	require.NoError(t, repo.Save(ctx, "oALICE", "d1", domain.Quota{MaxDrawings: 1}, func(*domain.Drawing) (*domain.Drawing, error) {
		return domain.NewDrawing("oALICE", "d1", porttest.Actions(t, `[1]`), time.Now())
	}), "a profile is not a drawing: the quota of one still has room")

	client, err := mongo.Connect(options.Client().ApplyURI(srv.MongoURI()))
	require.NoError(t, err)
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	var docs []bson.M
	cur, err := client.Database(db).Collection(mongostore.ProfilesCollection).Find(ctx, bson.D{})
	require.NoError(t, err)
	require.NoError(t, cur.All(ctx, &docs))
	assert.Equal(t, []bson.M{{"_id": "oALICE", "nickName": nick, "avatarUrl": avatar}}, docs)
	n, err := client.Database(db).Collection(mongostore.DefaultCollection).CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the drawing, and nothing of the profile, in the drawings' collection")
}

// A document of the release before phone numbers ({_id, nickName,
// avatarUrl}) reads as a profile without them; the phone number and the
// review flag are stored as members of their own, and only when set.
func TestMongoProfile_OldDocumentsReadAndThePlatformFieldsAreMembers(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{})
	db := unique("db")
	repo := mongoRepo(t, srv.MongoURI(), db)
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(srv.MongoURI()))
	require.NoError(t, err)
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	profiles := client.Database(db).Collection(mongostore.ProfilesCollection)
	_, err = profiles.InsertOne(ctx, bson.D{{Key: "_id", Value: "oOLD"}, {Key: "nickName", Value: "小明"}, {Key: "avatarUrl", Value: "https://cdn.example.com/a.png"}})
	require.NoError(t, err)

	p, err := repo.Profile(ctx, "oOLD")
	require.NoError(t, err)
	assert.Equal(t, domain.UnmarshalProfileFromStorage("小明", "https://cdn.example.com/a.png", domain.PhoneNumber{}, false), p)

	cn := domain.PhoneNumber{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}
	_, err = repo.UpdateProfile(ctx, "oOLD", func(cur domain.Profile) (domain.Profile, error) { return cur.WithPhoneNumber(cn) })
	require.NoError(t, err)
	nick := "待审"
	_, err = repo.UpdateProfile(ctx, "oOLD", func(cur domain.Profile) (domain.Profile, error) {
		return cur.Apply(domain.ProfileUpdate{NickName: &nick, NickNameVerdict: domain.ContentReview})
	})
	require.NoError(t, err)
	var doc bson.M
	require.NoError(t, profiles.FindOne(ctx, bson.D{{Key: "_id", Value: "oOLD"}}).Decode(&doc))
	assert.Equal(t, bson.M{"_id": "oOLD", "nickName": nick, "avatarUrl": "https://cdn.example.com/a.png",
		"phone":            bson.D{{Key: "phoneNumber", Value: "13800138000"}, {Key: "purePhoneNumber", Value: "13800138000"}, {Key: "countryCode", Value: "86"}},
		"nickNameInReview": true}, doc)
	p, err = repo.Profile(ctx, "oOLD")
	require.NoError(t, err)
	assert.Equal(t, domain.UnmarshalProfileFromStorage(nick, "https://cdn.example.com/a.png", cn, true), p)
}

// A second instance, or a restart, meets a database whose indexes exist
// already: it must become ready too (FerretDB 1.24.2 drops the connection
// on a createIndexes naming two or more existing indexes).
func TestMongoSecondInstanceOnAnExistingDatabaseBecomesReady(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{})
	db := unique("db")
	first := mongoRepo(t, srv.MongoURI(), db)
	require.NoError(t, first.Ping(context.Background()))
	second := mongoRepo(t, srv.MongoURI(), db)
	require.NoError(t, second.Ping(context.Background()))
	_, err := second.Profile(context.Background(), "oALICE")
	require.NoError(t, err)
	require.NoError(t, first.Ping(context.Background()), "the first instance still answers")
}
