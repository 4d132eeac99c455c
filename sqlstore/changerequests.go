package sqlstore

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/vanehq/vane"
)

var _ vane.ChangeRequestStore = (*Store)(nil)

// CreateChangeRequest implements vane.ChangeRequestStore. A request is
// kept as a rollout is: a JSON body, beside the columns that queries
// select and order by (state, and path, the common path of its names).
func (s *Store) CreateChangeRequest(ctx context.Context, cr *vane.ChangeRequest) error {
	if cr.ID == "" || len(cr.Items) == 0 {
		return vane.Errorf(vane.EINVALID, "a change request needs an id and at least one item")
	}
	return s.createBody(ctx, &cr.Revision, cr, `INSERT INTO change_requests (id, state, path, revision, body) VALUES (?, ?, ?, ?, ?)`,
		cr.ID, string(cr.State), cr.Path())
}

// ChangeRequest implements vane.ChangeRequestStore.
func (s *Store) ChangeRequest(ctx context.Context, id string) (*vane.ChangeRequest, error) {
	var cr vane.ChangeRequest
	if err := s.readBody(ctx, "change_requests", "change request", id, &cr); err != nil {
		return nil, err
	}
	return &cr, nil
}

// ChangeRequests implements vane.ChangeRequestStore. The paging token is
// the seq the next page starts at, as for rollouts.
func (s *Store) ChangeRequests(ctx context.Context, q *vane.ChangeRequestQuery) (*vane.ChangeRequestPage, error) {
	limit, err := vane.PageLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	before, err := seqToken(q.NextToken)
	if err != nil {
		return nil, err
	}
	query := `SELECT seq, body FROM change_requests WHERE 1 = 1`
	var args []any
	if before > 0 {
		query += ` AND seq < ?`
		args = append(args, before)
	}
	if q.State != "" {
		query += ` AND state = ?`
		args = append(args, string(q.State))
	}
	cond, cargs, err := overlappingPath(q.Prefix)
	if err != nil {
		return nil, err
	}
	query += cond + ` ORDER BY seq DESC LIMIT ?`
	args = append(append(args, cargs...), limit+1)
	crs, next, err := pageBodies[vane.ChangeRequest](ctx, s, "change request", query, args, limit)
	if err != nil {
		return nil, err
	}
	return &vane.ChangeRequestPage{ChangeRequests: crs, NextToken: next}, nil
}

// overlappingPath returns the condition (" AND ...", or "" for every
// request) and its arguments selecting the change requests whose path and
// the prefix p overlap: the path is p or below it ("/a" selects "/a",
// "/a/x" and "/a/", not "/ab"), or the path is a directory (ending in
// "/") that holds p, since such a request may change a name under p ("/a/"
// is selected by "/a/b"). It compares with = and ranges, as underName
// does, never LIKE, so no character of a name acts as a wildcard.
func overlappingPath(p string) (string, []any, error) {
	if _, _, err := underName(p); err != nil || p == "" || p == "/" {
		return "", nil, err
	}
	dir := strings.TrimSuffix(p, "/")
	cond := `path = ? OR (path >= ? AND path < ?)` // '0' follows '/'
	args := []any{dir, dir + "/", dir + "0"}
	for i := range len(dir) {
		if dir[i] == '/' {
			cond += ` OR path = ?`
			args = append(args, dir[:i+1])
		}
	}
	return ` AND (` + cond + `)`, args, nil
}

// UpdateChangeRequest implements vane.ChangeRequestStore.
func (s *Store) UpdateChangeRequest(ctx context.Context, cr *vane.ChangeRequest) error {
	return s.updateBody(ctx, "change_requests", "change request", cr.ID, &cr.Revision,
		`state = ?, path = ?`, []any{string(cr.State), cr.Path()}, func() ([]byte, error) { return json.Marshal(cr) })
}
