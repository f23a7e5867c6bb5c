//go:build integration

package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onestroke/onestroke/adapters/boltstore"
	"github.com/onestroke/onestroke/adapters/mongostore"
	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
	"github.com/onestroke/onestroke/tests/testenv"
)

// The original weapp-session wrote, with SETEX and the session TTL:
//
//	weapp-session:<code>   → JSON.stringify(userInfo)
//	weapp-session:<openId> → JSON.stringify(code)
const originalUser = `{"nickName":"老用户","gender":2,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"China","avatarUrl":"https://wx.qlogo.cn/mmopen/old/0","openId":"oLEGACY000000000000000000000"}`

func TestRedis_SessionWrittenByTheOriginalServiceIsAccepted(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	raw := redis.NewClient(&redis.Options{Addr: srv.HostPort})
	defer raw.Close()
	ctx := context.Background()
	require.NoError(t, raw.SetEx(ctx, "weapp-session:LEGACYCODE", originalUser, 7200*time.Second).Err())
	require.NoError(t, raw.SetEx(ctx, "weapp-session:oLEGACY000000000000000000000", `"LEGACYCODE"`, 7200*time.Second).Err())

	repo := embeddedDrawings(t)
	s := newService(t, redisStore(t, srv.RedisURL(), redisstore.Options{}), repo)
	a := s.call("GET", "/applet/session", http.Header{"X-Wx-Code": {"LEGACYCODE"}}, "")
	require.NoError(t, a.err)
	require.Equal(t, http.StatusOK, a.status, a.body)
	var want map[string]any
	require.NoError(t, json.Unmarshal([]byte(originalUser), &want))
	assert.Equal(t, want, a.body["wxUserInfo"], "the user the original service verified")
	a = s.call("POST", "/applet/session/paints/save", http.Header{"X-Wx-Code": {"LEGACYCODE"}}, `{"id":"d1","actions":"[]"}`)
	assert.Equal(t, http.StatusOK, a.status, "and it can use the drawing routes: %v", a.body)
}

func TestRedis_LoginsAreWrittenInTheOriginalFormat(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	raw := redis.NewClient(&redis.Options{Addr: srv.HostPort})
	defer raw.Close()
	ctx := context.Background()
	s := newService(t, redisStore(t, srv.RedisURL(), redisstore.Options{}), embeddedDrawings(t))
	d, err := s.wx.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)
	a := s.call("GET", "/applet/session", d.Headers(), "")
	require.Equal(t, http.StatusOK, a.status, a.body)

	userJSON, err := raw.Get(ctx, "weapp-session:"+d.Code).Result()
	require.NoError(t, err)
	var user map[string]any
	require.NoError(t, json.Unmarshal([]byte(userJSON), &user))
	assert.Equal(t, d.OpenID, user["openId"])
	assert.Equal(t, "alice", user["nickName"])
	codeJSON, err := raw.Get(ctx, "weapp-session:"+d.OpenID).Result()
	require.NoError(t, err)
	assert.Equal(t, `"`+d.Code+`"`, codeJSON, "openId → the code as a JSON string")
	for _, k := range []string{"weapp-session:" + d.Code, "weapp-session:" + d.OpenID} {
		ttl, err := raw.TTL(ctx, k).Result()
		require.NoError(t, err)
		assert.InDelta(t, time.Hour.Seconds(), ttl.Seconds(), 5, "TTL of %s", k) // newService uses a 1 h TTL
	}
}

func TestRedis_ReloginRevokesASessionOfTheOriginalService(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	raw := redis.NewClient(&redis.Options{Addr: srv.HostPort})
	defer raw.Close()
	ctx := context.Background()
	s := newService(t, redisStore(t, srv.RedisURL(), redisstore.Options{}), embeddedDrawings(t))
	openID := s.wx.OpenID("alice")
	old := `{"nickName":"alice","openId":"` + openID + `"}`
	require.NoError(t, raw.SetEx(ctx, "weapp-session:OLDCODE", old, 7200*time.Second).Err())
	require.NoError(t, raw.SetEx(ctx, "weapp-session:"+openID, `"OLDCODE"`, 7200*time.Second).Err())

	s.login("alice") // a new login through onestroke
	n, err := raw.Exists(ctx, "weapp-session:OLDCODE").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the original service's code of that user is revoked")
}

// insertOriginalDrawings writes what mongoose wrote for the original demo
// (_id, the three fields, __v): oLEGACY's old1 (14 bytes of actions) and
// old2 (2 bytes), and oOTHER's old3.
func insertOriginalDrawings(t *testing.T, db *mongo.Database) {
	t.Helper()
	_, err := db.Collection("paints").InsertMany(context.Background(), []any{
		bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "openId", Value: "oLEGACY"}, {Key: "id", Value: "old1"}, {Key: "actions", Value: `[{"t":"line"}]`}, {Key: "__v", Value: 0}},
		bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "openId", Value: "oLEGACY"}, {Key: "id", Value: "old2"}, {Key: "actions", Value: `[]`}, {Key: "__v", Value: 0}},
		bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "openId", Value: "oOTHER"}, {Key: "id", Value: "old3"}, {Key: "actions", Value: `[]`}, {Key: "__v", Value: 0}},
	})
	require.NoError(t, err)
}

func TestMongo_DrawingsWrittenByTheOriginalServiceAreRead(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{})
	db := unique("db")
	ctx := context.Background()
	raw, err := mongo.Connect(options.Client().ApplyURI(srv.MongoURI()))
	require.NoError(t, err)
	defer raw.Disconnect(ctx)
	insertOriginalDrawings(t, raw.Database(db))

	repo := mongoRepo(t, srv.MongoURI(), db)
	got, err := repo.List(ctx, "oLEGACY", 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	byID := map[string]string{got[0].ID(): got[0].Actions().Text(), got[1].ID(): got[1].Actions().Text()}
	assert.Equal(t, map[string]string{"old1": `[{"t":"line"}]`, "old2": `[]`}, byID)
	assert.False(t, got[0].CreatedAt().IsZero(), "the ObjectID's time stands in for createdAt")

	// Batches walk them too (they have no updatedAt: after all others, by id).
	saveAt(t, repo, "oLEGACY", "new1", `[3]`)
	var walked []string
	for after := ""; ; {
		batch, next, err := repo.ListBatch(ctx, "oLEGACY", after, 1, 1<<20)
		require.NoError(t, err)
		for _, d := range batch {
			walked = append(walked, d.ID())
		}
		if next == "" {
			break
		}
		after = next
	}
	assert.Equal(t, []string{"new1", "old1", "old2"}, walked)
	require.NoError(t, repo.Delete(ctx, "oLEGACY", "new1", domain.Precondition{}))

	// Re-saving an original drawing replaces its actions in place.
	saveAt(t, repo, "oLEGACY", "old1", `[2]`)
	count, err := raw.Database(db).Collection("paints").CountDocuments(ctx, bson.D{{Key: "openId", Value: "oLEGACY"}, {Key: "id", Value: "old1"}})
	require.NoError(t, err)
	assert.EqualValues(t, 1, count)
	got, err = repo.List(ctx, "oLEGACY", 10)
	require.NoError(t, err)
	assert.Equal(t, "old1", got[0].ID(), "the re-saved drawing is now the newest")
	assert.Equal(t, `[2]`, got[0].Actions().Text())
	require.NoError(t, repo.Delete(ctx, "oLEGACY", "old2", domain.Precondition{}))
}

func TestMongo_IndexesServeOwnerScopeAndTheList(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{})
	db := unique("db")
	repo := mongoRepo(t, srv.MongoURI(), db)
	require.NoError(t, repo.Ping(context.Background()))
	raw, err := mongo.Connect(options.Client().ApplyURI(srv.MongoURI()))
	require.NoError(t, err)
	defer raw.Disconnect(context.Background())
	specs, err := raw.Database(db).Collection("paints").Indexes().ListSpecifications(context.Background())
	require.NoError(t, err)
	byName := map[string]mongo.IndexSpecification{}
	for _, s := range specs {
		byName[s.Name] = s
	}
	require.Contains(t, byName, "openId_id_unique")
	require.NotNil(t, byName["openId_id_unique"].Unique)
	assert.True(t, *byName["openId_id_unique"].Unique)
	assert.Contains(t, byName, "openId_updatedAt_id")
	assert.Contains(t, byName, "openId_createdAt_id", "the v2 pages' index")
}

// A document of the original service ({openId, id, actions}) and one of
// onestroke before v2 (with createdAt, updatedAt and rev, no bytes,
// revision or title) page too: the dated ones by createdAt, then the
// undated ones, by id, descending; the first page that meets them fills in
// their bytes and revision (the ETag they already had, derived from their
// actions); a save never dates an undated one, so a walk's positions hold.
func TestMongo_DrawingsWrittenBeforeV2Page(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{})
	db := unique("db")
	ctx := context.Background()
	raw, err := mongo.Connect(options.Client().ApplyURI(srv.MongoURI()))
	require.NoError(t, err)
	defer raw.Disconnect(ctx)
	insertOriginalDrawings(t, raw.Database(db)) // oLEGACY's old1 and old2, undated
	paints := raw.Database(db).Collection("paints")
	pre := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	_, err = paints.InsertOne(ctx, bson.D{{Key: "openId", Value: "oLEGACY"}, {Key: "id", Value: "pre1"}, {Key: "actions", Value: `[1,2,3]`},
		{Key: "createdAt", Value: pre}, {Key: "updatedAt", Value: pre}, {Key: "rev", Value: int64(2)}})
	require.NoError(t, err)
	repo := mongoRepo(t, srv.MongoURI(), db)
	require.NoError(t, repo.Save(ctx, "oLEGACY", "new1", domain.Quota{}, func(*domain.Drawing) (*domain.Drawing, error) {
		return domain.NewDrawing("oLEGACY", "new1", porttest.Actions(t, `[9]`), pre.Add(time.Hour))
	}))

	etags := map[string]string{}
	for _, id := range []string{"old1", "old2", "pre1", "new1"} {
		d, err := repo.Get(ctx, "oLEGACY", id)
		require.NoError(t, err)
		etags[id] = d.ETag()
	}
	assert.Equal(t, domain.ETagOf(domain.DerivedRevision(`[{"t":"line"}]`)), etags["old1"])
	walk := func() []domain.DrawingSummary {
		var out []domain.DrawingSummary
		for cursor := ""; ; {
			items, next, err := repo.Page(ctx, "oLEGACY", cursor, 1)
			require.NoError(t, err)
			out = append(out, items...)
			if next == "" {
				return out
			}
			cursor = next
		}
	}
	got := walk()
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
		assert.Equal(t, etags[s.ID], s.ETag(), "%s: the page's etag is Get's, before and after the fill", s.ID)
	}
	assert.Equal(t, []string{"new1", "pre1", "old2", "old1"}, ids)
	assert.Equal(t, []int64{3, 7, 2, 14}, []int64{got[0].Bytes, got[1].Bytes, got[2].Bytes, got[3].Bytes})
	assert.True(t, pre.Equal(got[1].CreatedAt))
	assert.False(t, got[3].CreatedAt.IsZero(), "the ObjectID's time stands in")
	n, err := paints.CountDocuments(ctx, bson.D{{Key: "openId", Value: "oLEGACY"}, {Key: "bytes", Value: bson.D{{Key: "$exists", Value: false}}}})
	require.NoError(t, err)
	assert.Zero(t, n, "every document got its bytes")
	for _, id := range []string{"old1", "old2", "pre1"} {
		d, err := repo.Get(ctx, "oLEGACY", id)
		require.NoError(t, err)
		assert.Equal(t, etags[id], d.ETag(), "%s: the fill kept the ETag", id)
	}

	// A legacy save of an undated drawing: a new ETag, no createdAt, the same place.
	saveAt(t, repo, "oLEGACY", "old2", `[2]`)
	var doc bson.M
	require.NoError(t, paints.FindOne(ctx, bson.D{{Key: "openId", Value: "oLEGACY"}, {Key: "id", Value: "old2"}}).Decode(&doc))
	assert.NotContains(t, doc, "createdAt")
	after := walk()
	require.Len(t, after, 4)
	assert.Equal(t, "old2", after[2].ID)
	assert.NotEqual(t, etags["old2"], after[2].ETag())
	assert.Equal(t, int64(3), after[2].Bytes)

	// A conditional delete with a derived ETag; a stale one conflicts.
	assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(repo.Delete(ctx, "oLEGACY", "old2", domain.Precondition{IfMatch: []string{etags["old2"]}})))
	require.NoError(t, repo.Delete(ctx, "oLEGACY", "old1", domain.Precondition{IfMatch: []string{etags["old1"]}}))
	var left []string
	for _, s := range walk() {
		left = append(left, s.ID)
	}
	assert.Equal(t, []string{"new1", "pre1", "old2"}, left)
}

// Documents the original service wrote have no usage document: the first
// save of their owner counts them (count, the actions' lengths), and
// deletes give their share back.
func TestMongo_QuotaCountsTheOriginalServicesDrawings(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{})
	db := unique("db")
	ctx := context.Background()
	raw, err := mongo.Connect(options.Client().ApplyURI(srv.MongoURI()))
	require.NoError(t, err)
	defer raw.Disconnect(ctx)
	insertOriginalDrawings(t, raw.Database(db)) // oLEGACY's actions: 14 and 2 bytes
	repo := mongoRepo(t, srv.MongoURI(), db)
	save := func(id, actions string, q domain.Quota) error {
		return repo.Save(ctx, "oLEGACY", id, q, func(cur *domain.Drawing) (*domain.Drawing, error) {
			if cur == nil {
				return domain.NewDrawing("oLEGACY", id, porttest.Actions(t, actions), time.Now())
			}
			return cur, cur.ReplaceActions(porttest.Actions(t, actions), time.Now())
		})
	}
	assert.Equal(t, domain.EQUOTA, domain.ErrorCode(save("new1", `[1]`, domain.Quota{MaxDrawings: 2})), "the two original drawings are counted")
	assert.Equal(t, domain.EQUOTA, domain.ErrorCode(save("new1", `[1]`, domain.Quota{MaxBytes: 14 + 2 + 2})), "and their bytes")
	require.NoError(t, save("new1", `[1]`, domain.Quota{MaxDrawings: 3, MaxBytes: 14 + 2 + 3}))
	var usage bson.M
	require.NoError(t, raw.Database(db).Collection("paints"+mongostore.UsageSuffix).FindOne(ctx, bson.D{{Key: "_id", Value: "oLEGACY"}}).Decode(&usage))
	assert.EqualValues(t, 3, usage["drawings"])
	assert.EqualValues(t, 19, usage["bytes"])
	require.NoError(t, repo.Delete(ctx, "oLEGACY", "old1", domain.Precondition{}))
	require.NoError(t, save("new2", `["1234567890"]`, domain.Quota{MaxDrawings: 3, MaxBytes: 2 + 3 + 14}), "the delete gave back the original drawing's share")
}

// embeddedDrawings is the drawing store of session-only tests: the embedded one.
func embeddedDrawings(t *testing.T) *boltstore.Repository {
	t.Helper()
	repo, err := boltstore.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { repo.Close() })
	return repo
}

// saveAt saves actions the way the drawing use case does, now.
func saveAt(t *testing.T, repo ports.DrawingRepository, owner, id, actions string) {
	t.Helper()
	require.NoError(t, repo.Save(context.Background(), owner, id, domain.Quota{}, func(cur *domain.Drawing) (*domain.Drawing, error) {
		if cur == nil {
			return domain.NewDrawing(owner, id, porttest.Actions(t, actions), time.Now())
		}
		return cur, cur.ReplaceActions(porttest.Actions(t, actions), time.Now())
	}))
}

// TestMongo_ListIsServedByTheIndex needs real MongoDB: the FerretDB stand-in
// has no query planner to ask.
func TestMongo_ListIsServedByTheIndex(t *testing.T) {
	testenv.RequireDocker(t)
	if testenv.MongoIsStandIn() {
		t.Skip("NEEDS REAL MONGODB: the FerretDB stand-in cannot explain a query plan; run with ONESTROKE_TEST_MONGO_IMAGE=mongo:7")
	}
	srv := testenv.StartMongo(t, testenv.Options{})
	db := unique("db")
	repo := mongoRepo(t, srv.MongoURI(), db)
	for i := 0; i < 50; i++ {
		saveAt(t, repo, "oALICE", fmt.Sprintf("d%02d", i), `[1]`)
	}
	raw, err := mongo.Connect(options.Client().ApplyURI(srv.MongoURI()))
	require.NoError(t, err)
	defer raw.Disconnect(context.Background())
	var plan bson.M
	err = raw.Database(db).RunCommand(context.Background(), bson.D{
		{Key: "explain", Value: bson.D{
			{Key: "find", Value: "paints"},
			{Key: "filter", Value: bson.D{{Key: "openId", Value: "oALICE"}}},
			{Key: "sort", Value: bson.D{{Key: "updatedAt", Value: -1}, {Key: "id", Value: 1}}},
			{Key: "limit", Value: 10},
		}},
		{Key: "verbosity", Value: "queryPlanner"},
	}).Decode(&plan)
	require.NoError(t, err)
	text := fmt.Sprint(plan["queryPlanner"])
	assert.Contains(t, text, "openId_updatedAt_id", "the winning plan uses the list index")
	assert.NotContains(t, text, "SORT ", "no in-memory sort")
}

// TestMongo_PageIsServedByTheIndex needs real MongoDB, as the list's does.
func TestMongo_PageIsServedByTheIndex(t *testing.T) {
	testenv.RequireDocker(t)
	if testenv.MongoIsStandIn() {
		t.Skip("NEEDS REAL MONGODB: the FerretDB stand-in cannot explain a query plan; run with ONESTROKE_TEST_MONGO_IMAGE=mongo:7")
	}
	srv := testenv.StartMongo(t, testenv.Options{})
	db := unique("db")
	repo := mongoRepo(t, srv.MongoURI(), db)
	for i := 0; i < 50; i++ {
		saveAt(t, repo, "oALICE", fmt.Sprintf("d%02d", i), `[1]`)
	}
	raw, err := mongo.Connect(options.Client().ApplyURI(srv.MongoURI()))
	require.NoError(t, err)
	defer raw.Disconnect(context.Background())
	at := time.Now().UTC()
	for name, filter := range map[string]bson.D{
		"first page": {{Key: "openId", Value: "oALICE"}},
		"a later page": {{Key: "openId", Value: "oALICE"}, {Key: "$or", Value: bson.A{
			bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: at}}}},
			bson.D{{Key: "createdAt", Value: at}, {Key: "id", Value: bson.D{{Key: "$lt", Value: "d20"}}}},
			bson.D{{Key: "createdAt", Value: bson.D{{Key: "$exists", Value: false}}}},
		}}},
	} {
		var plan bson.M
		err = raw.Database(db).RunCommand(context.Background(), bson.D{
			{Key: "explain", Value: bson.D{
				{Key: "find", Value: "paints"},
				{Key: "filter", Value: filter},
				{Key: "sort", Value: bson.D{{Key: "createdAt", Value: -1}, {Key: "id", Value: -1}}},
				{Key: "projection", Value: bson.D{{Key: "actions", Value: 0}}},
				{Key: "limit", Value: 21},
			}},
			{Key: "verbosity", Value: "queryPlanner"},
		}).Decode(&plan)
		require.NoError(t, err)
		text := fmt.Sprint(plan["queryPlanner"])
		assert.Contains(t, text, "openId_createdAt_id", "%s: the winning plan uses the pages' index", name)
		assert.NotContains(t, text, "SORT ", "%s: no in-memory sort", name)
	}
}

// A save or delete that died holding its owner's lease (a process killed
// mid-save) leaves it in paints_locks: the owner waits until the lease
// expires, then the next save takes it over; a live lease makes a save
// wait, not go around it.
func TestMongo_QuotaLeaseOfADeadSaveIsTakenOverAfterItExpires(t *testing.T) {
	srv := testenv.StartMongo(t, testenv.Options{})
	db := unique("db")
	ctx := context.Background()
	raw, err := mongo.Connect(options.Client().ApplyURI(srv.MongoURI()))
	require.NoError(t, err)
	defer raw.Disconnect(ctx)
	repo, err := mongostore.Open(srv.MongoURI(), mongostore.Options{Database: db, OpTimeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { repo.Close(context.Background()) })
	require.NoError(t, repo.EnsureReady(ctx))
	locks := raw.Database(db).Collection("paints" + mongostore.LocksSuffix)
	save := func(owner string) error {
		return repo.Save(ctx, owner, "d1", domain.Quota{MaxDrawings: 10}, func(cur *domain.Drawing) (*domain.Drawing, error) {
			if cur == nil {
				return domain.NewDrawing(owner, "d1", porttest.Actions(t, `[1]`), time.Now())
			}
			return cur, cur.ReplaceActions(porttest.Actions(t, `[2]`), time.Now())
		})
	}
	_, err = locks.InsertOne(ctx, bson.D{{Key: "_id", Value: "oDEAD"}, {Key: "token", Value: "dead"}, {Key: "until", Value: time.Now().Add(-time.Second)}})
	require.NoError(t, err)
	require.NoError(t, save("oDEAD"), "an expired lease is taken over")

	_, err = locks.InsertOne(ctx, bson.D{{Key: "_id", Value: "oBUSY"}, {Key: "token", Value: "live"}, {Key: "until", Value: time.Now().Add(time.Minute)}})
	require.NoError(t, err)
	start := time.Now()
	err = save("oBUSY")
	assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err), "%v", err)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "it waited for the live lease until the call's timeout")
	n, err := raw.Database(db).Collection("paints").CountDocuments(ctx, bson.D{{Key: "openId", Value: "oBUSY"}})
	require.NoError(t, err)
	assert.Zero(t, n, "nothing stored")
	n, err = locks.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "the finished save gave its lease back; the live one stays")
}
