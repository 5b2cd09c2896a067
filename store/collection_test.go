package store_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

func openTestStore(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var baseTime = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// dep is deployment i: created i seconds after baseTime.
func dep(i int, project, method string) model.Deployment {
	return model.Deployment{ID: fmt.Sprintf("dep-%04d", i), ProjectID: project, EnvironmentID: project + "-env",
		DeploymentMethod: method, Status: model.DeploySuccess, CreatedAt: baseTime.Add(time.Duration(i) * time.Second)}
}

func putDeps(t testing.TB, db *store.DB, ds ...model.Deployment) {
	t.Helper()
	err := db.Update(func(tx *store.Tx) error {
		for _, d := range ds {
			if err := store.Deployments.Put(tx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func listDeps(t testing.TB, db *store.DB, q store.Query[model.Deployment]) ([]string, string, error) {
	t.Helper()
	var out []model.Deployment
	var next string
	err := db.View(func(tx *store.Tx) error {
		var err error
		out, next, err = store.Deployments.List(tx, q)
		return err
	})
	ids := make([]string, len(out))
	for i, d := range out {
		ids[i] = d.ID
	}
	return ids, next, err
}

func countDeps(t testing.TB, db *store.DB, index, value string) int {
	t.Helper()
	var n int
	err := db.View(func(tx *store.Tx) error {
		var err error
		n, err = store.Deployments.Count(tx, index, value)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pageAll walks every page of q with limit and checks the paging contract:
// full pages carry a cursor, the last page none and is not empty (unless
// everything is).
func pageAll(t *testing.T, db *store.DB, q store.Query[model.Deployment], limit int) []string {
	t.Helper()
	q.Limit = limit
	var all []string
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatal("paging does not end")
		}
		ids, next, err := listDeps(t, db, q)
		if err != nil {
			t.Fatal(err)
		}
		if next != "" && len(ids) != limit {
			t.Fatalf("page %d: %d items with a cursor, want %d", page, len(ids), limit)
		}
		if next == "" && len(ids) == 0 && page > 0 {
			t.Fatalf("page %d is empty: the previous page should have had no cursor", page)
		}
		all = append(all, ids...)
		if next == "" {
			return all
		}
		q.Cursor = next
	}
}

func wantErrCode(t testing.TB, err error, code model.Code) *model.Error {
	t.Helper()
	var me *model.Error
	if !errors.As(err, &me) || me.Code != code {
		t.Fatalf("error %v: want %s", err, code)
	}
	return me
}

func TestCollectionGetPutDelete(t *testing.T) {
	db := openTestStore(t)
	err := db.View(func(tx *store.Tx) error {
		_, err := store.Projects.Get(tx, "shop")
		me := wantErrCode(t, err, model.CodeNotFound)
		if me.Details["kind"] != "project" || me.Details["id"] != "shop" {
			t.Fatalf("NOT_FOUND details %v", me.Details)
		}
		if store.Projects.Exists(tx, "shop") {
			t.Fatal("Exists on an empty store")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p := model.Project{ID: "shop", Name: "Shop", CreatedAt: baseTime, UpdatedAt: baseTime}
	if err := db.Update(func(tx *store.Tx) error { return store.Projects.Put(tx, p) }); err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *store.Tx) error {
		got, err := store.Projects.Get(tx, "shop")
		if err != nil {
			return err
		}
		if got.Name != "Shop" || !got.CreatedAt.Equal(baseTime) || !store.Projects.Exists(tx, "shop") {
			t.Fatalf("read back %+v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *store.Tx) error { return store.Projects.Put(tx, model.Project{Name: "no id"}) }); err == nil {
		t.Fatal("Put of a record without id succeeded")
	}
	if err := db.Update(func(tx *store.Tx) error { return store.Projects.Delete(tx, "shop") }); err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *store.Tx) error { return store.Projects.Delete(tx, "shop") })
	wantErrCode(t, err, model.CodeNotFound)

	// A failed transaction leaves nothing behind, index entries included.
	boom := errors.New("boom")
	err = db.Update(func(tx *store.Tx) error {
		if err := store.Deployments.Put(tx, dep(1, "p", model.MethodManual)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v", err)
	}
	if n := countDeps(t, db, "project", "p"); n != 0 {
		t.Fatalf("rolled back Put left %d index entries", n)
	}
}

func TestCollectionListPaging(t *testing.T) {
	db := openTestStore(t)
	const n = 53
	var ds []model.Deployment
	// Index values that are prefixes of each other must not leak into one another.
	projects := []string{"p", "p-2", "pa", "p"}
	for i := range n {
		ds = append(ds, dep(i, projects[i%4], model.DeploymentMethods[i%4]))
	}
	// Insert out of order: the list order is the sort key's, not insertion's.
	slices.Reverse(ds[10:30])
	putDeps(t, db, ds...)

	want := func(project string, newest bool) []string {
		var out []string
		for i := range n {
			if project == "" || projects[i%4] == project {
				out = append(out, fmt.Sprintf("dep-%04d", i))
			}
		}
		if newest {
			slices.Reverse(out)
		}
		return out
	}
	for _, project := range []string{"", "p", "p-2", "pa", "nope"} {
		for _, newest := range []bool{false, true} {
			q := store.Query[model.Deployment]{Newest: newest}
			if project != "" {
				q.Index, q.Value = "project", project
			}
			w := want(project, newest)
			for _, limit := range []int{1, 2, 5, 13, 26, 27, 53, 54, 1000} {
				got := pageAll(t, db, q, limit)
				if !slices.Equal(got, w) {
					t.Fatalf("project %q newest %v limit %d:\n got %v\nwant %v", project, newest, limit, got, w)
				}
			}
			// No limit: everything at once, no cursor.
			got, next, err := listDeps(t, db, q)
			if err != nil || next != "" || !slices.Equal(got, w) {
				t.Fatalf("project %q newest %v unlimited: %v %q %v", project, newest, got, next, err)
			}
		}
	}
	if c := countDeps(t, db, "project", "p"); c != len(want("p", false)) {
		t.Fatalf("Count(project, p) = %d", c)
	}
	if c := countDeps(t, db, "", ""); c != n {
		t.Fatalf("Count(all) = %d", c)
	}
}

func TestCollectionListFilterAndCursorAfterDelete(t *testing.T) {
	db := openTestStore(t)
	for i := range 40 {
		putDeps(t, db, dep(i, "p", model.DeploymentMethods[i%4]))
	}
	// A filter on top of an index: pages hold only matches and stay full.
	q := store.Query[model.Deployment]{Index: "project", Value: "p", Newest: true,
		Filter: func(d model.Deployment) bool { return d.DeploymentMethod == model.MethodPipeline }}
	got := pageAll(t, db, q, 3)
	var want []string
	for i := 39; i >= 0; i-- {
		if i%4 == 3 {
			want = append(want, fmt.Sprintf("dep-%04d", i))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("filtered pages %v, want %v", got, want)
	}

	// The record a cursor points at is deleted between pages: the next page
	// starts right after it anyway, in both directions.
	for _, newest := range []bool{false, true} {
		q := store.Query[model.Deployment]{Index: "project", Value: "p", Newest: newest, Limit: 10}
		page1, cursor, err := listDeps(t, db, q)
		if err != nil {
			t.Fatal(err)
		}
		last := page1[len(page1)-1]
		if err := db.Update(func(tx *store.Tx) error { return store.Deployments.Delete(tx, last) }); err != nil {
			t.Fatal(err)
		}
		q.Cursor, q.Limit = cursor, 0
		rest, _, err := listDeps(t, db, q)
		if err != nil {
			t.Fatal(err)
		}
		all := append(page1[:len(page1)-1:len(page1)-1], rest...)
		q.Cursor = ""
		fresh, _, _ := listDeps(t, db, q)
		if !slices.Equal(all, fresh) {
			t.Fatalf("newest %v: after deleting the cursor's record got %v, want %v", newest, all, fresh)
		}
	}
}

func TestCollectionCursorValidation(t *testing.T) {
	db := openTestStore(t)
	for i := range 6 {
		putDeps(t, db, dep(i, []string{"p", "p-2"}[i%2], model.MethodManual))
	}
	_, pCursor, err := listDeps(t, db, store.Query[model.Deployment]{Index: "project", Value: "p", Limit: 1})
	if err != nil || pCursor == "" {
		t.Fatalf("cursor %q %v", pCursor, err)
	}
	_, allCursor, _ := listDeps(t, db, store.Query[model.Deployment]{Limit: 1})
	for _, tc := range []struct {
		name string
		q    store.Query[model.Deployment]
	}{
		{"not hex", store.Query[model.Deployment]{Cursor: "not a cursor"}},
		{"odd hex", store.Query[model.Deployment]{Cursor: "abc"}},
		{"hex of nothing useful", store.Query[model.Deployment]{Index: "project", Value: "p", Cursor: "deadbeef"}},
		{"cursor of another value", store.Query[model.Deployment]{Index: "project", Value: "p-2", Cursor: pCursor}},
		{"cursor of a value that is a prefix", store.Query[model.Deployment]{Index: "project", Value: "p-", Cursor: pCursor}},
		{"cursor of the unfiltered list", store.Query[model.Deployment]{Index: "project", Value: "p", Cursor: allCursor}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := listDeps(t, db, tc.q)
			me := wantErrCode(t, err, model.CodeBadRequest)
			fields, _ := me.Details["fields"].(map[string]any)
			if _, ok := fields["cursor"]; !ok {
				t.Fatalf("details %v do not name cursor", me.Details)
			}
		})
	}
	// The same cursor on its own list works, in either direction.
	for _, newest := range []bool{false, true} {
		if _, _, err := listDeps(t, db, store.Query[model.Deployment]{Index: "project", Value: "p", Cursor: pCursor, Newest: newest}); err != nil {
			t.Fatal(err)
		}
	}
	// An index that does not exist is an error, not an empty list.
	if _, _, err := listDeps(t, db, store.Query[model.Deployment]{Index: "colour", Value: "red"}); err == nil {
		t.Fatal("List through an unknown index succeeded")
	}
}

func TestCollectionPutMovesIndexEntries(t *testing.T) {
	db := openTestStore(t)
	d := dep(1, "p1", model.MethodManual)
	d.GitCommitSha = "abcdef0"
	putDeps(t, db, d, dep(2, "p1", model.MethodManual))

	d.ProjectID, d.DeploymentMethod, d.GitCommitSha = "p2", model.MethodPipeline, ""
	d.CreatedAt = baseTime.Add(time.Hour) // the sort key changes too
	putDeps(t, db, d)

	for _, tc := range []struct {
		index, value string
		want         string
	}{
		{"project", "p1", "dep-0002"},
		{"project", "p2", "dep-0001"},
		{"method", model.MethodManual, "dep-0002"},
		{"method", model.MethodPipeline, "dep-0001"},
		{"commit", "abcdef0", ""},
		{"", "", "dep-0002,dep-0001"},
	} {
		ids, _, err := listDeps(t, db, store.Query[model.Deployment]{Index: tc.index, Value: tc.value})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(ids, ","); got != tc.want {
			t.Fatalf("%s=%s lists %q, want %q", tc.index, tc.value, got, tc.want)
		}
		if c := countDeps(t, db, tc.index, tc.value); c != len(ids) {
			t.Fatalf("%s=%s counts %d index entries for %d records: a stale entry is left", tc.index, tc.value, c, len(ids))
		}
	}

	// A conditional index: a soft-deleted resource leaves the live indexes
	// but is still readable.
	r := model.GitOpsResource{ID: "res-1", ProjectID: "p1", EnvironmentID: "e1", Type: model.ResourceKustomization, CreatedAt: baseTime}
	if err := db.Update(func(tx *store.Tx) error { return store.Resources.Put(tx, r) }); err != nil {
		t.Fatal(err)
	}
	now := baseTime.Add(time.Minute)
	r.DeletedAt = &now
	if err := db.Update(func(tx *store.Tx) error { return store.Resources.Put(tx, r) }); err != nil {
		t.Fatal(err)
	}
	err := db.View(func(tx *store.Tx) error {
		for _, ix := range []struct{ name, value string }{{"live", ""}, {"project", "p1"}, {"environment", "e1"}, {"type", model.ResourceKustomization}} {
			if n, err := store.Resources.Count(tx, ix.name, ix.value); err != nil || n != 0 {
				t.Fatalf("soft-deleted resource still in index %s (%d, %v)", ix.name, n, err)
			}
		}
		if n, _ := store.Resources.Count(tx, "", ""); n != 1 {
			t.Fatalf("soft-deleted resource left the all index (%d)", n)
		}
		got, err := store.Resources.Get(tx, "res-1")
		if err != nil || got.DeletedAt == nil {
			t.Fatalf("soft-deleted resource: %+v %v", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// bucketKeys counts the keys of every bucket of the deployments collection.
func bucketKeys(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := db.Bolt().View(func(btx *bolt.Tx) error {
		for _, name := range store.Deployments.Buckets() {
			b := btx.Bucket([]byte(name))
			if b == nil {
				return fmt.Errorf("bucket %s missing", name)
			}
			out[name] = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCollectionDeleteRemovesIndexEntries(t *testing.T) {
	db := openTestStore(t)
	d := dep(1, "p1", model.MethodGitOpsUI)
	d.GitCommitSha, d.GitOpsResourceID = "abcdef0", "res-1"
	putDeps(t, db, d)
	keys := bucketKeys(t, db)
	for _, name := range store.Deployments.Buckets() {
		if keys[name] != 1 {
			t.Fatalf("after Put bucket %s has %d keys, want 1 (%v)", name, keys[name], keys)
		}
	}
	if err := db.Update(func(tx *store.Tx) error { return store.Deployments.Delete(tx, d.ID) }); err != nil {
		t.Fatal(err)
	}
	for name, n := range bucketKeys(t, db) {
		if n != 0 {
			t.Fatalf("after Delete bucket %s still has %d keys", name, n)
		}
	}
}

func TestCollectionReindex(t *testing.T) {
	db := openTestStore(t)
	for i := range 20 {
		putDeps(t, db, dep(i, []string{"a", "b"}[i%2], model.MethodManual))
	}
	// Lose an index, as an old schema would not have had it.
	err := db.Bolt().Update(func(btx *bolt.Tx) error {
		if err := btx.DeleteBucket([]byte("deployments.idx.project")); err != nil {
			return err
		}
		_, err := btx.CreateBucket([]byte("deployments.idx.project"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := countDeps(t, db, "project", "a"); c != 0 {
		t.Fatalf("emptied index counts %d", c)
	}
	if err := db.Update(func(tx *store.Tx) error { return store.Deployments.Reindex(tx) }); err != nil {
		t.Fatal(err)
	}
	if a, b, all := countDeps(t, db, "project", "a"), countDeps(t, db, "project", "b"), countDeps(t, db, "", ""); a != 10 || b != 10 || all != 20 {
		t.Fatalf("after Reindex: a=%d b=%d all=%d", a, b, all)
	}
	ids, _, err := listDeps(t, db, store.Query[model.Deployment]{Index: "project", Value: "b", Newest: true, Limit: 2})
	if err != nil || strings.Join(ids, ",") != "dep-0019,dep-0017" {
		t.Fatalf("after Reindex: %v %v", ids, err)
	}
}

func BenchmarkCollectionListPage(b *testing.B) {
	db := openTestStore(b)
	const n = 10000
	ds := make([]model.Deployment, n)
	for i := range ds {
		ds[i] = dep(i, []string{"a", "b", "c", "d"}[i%4], model.DeploymentMethods[i%4])
	}
	putDeps(b, db, ds...)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := listDeps(b, db, store.Query[model.Deployment]{Index: "project", Value: "c", Newest: true, Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
}
