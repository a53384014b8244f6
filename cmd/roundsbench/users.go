package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
)

// account is one load user with a bearer token.
type account struct {
	ID    string `json:"id"`
	Login string `json:"login"`
	Token string `json:"token"`
}

type tokenCache struct {
	Base     string    `json:"base"`
	OrgID    string    `json:"org_id"`
	Admin    account   `json:"admin"`
	Accounts []account `json:"accounts"`
}

// provision returns n signed-in staff of the admin's hospital. Staff named
// LB00000… are created in a 压测科 department the first time, given the load
// password and signed in; tokens are cached in cacheFile because an argon2id
// sign-in costs 50–200 ms and a 1,000-member storm would otherwise spend
// minutes signing in before every run.
func provision(ctx context.Context, c *client.Client, adminLogin, password, cacheFile string, n, workers int, logf func(string, ...any)) (tokenCache, error) {
	var cache tokenCache
	if b, err := os.ReadFile(cacheFile); err == nil && json.Unmarshal(b, &cache) == nil && cache.Base == c.Base {
		var me client.User
		if len(cache.Accounts) >= n && c.Do(ctx, cache.Admin.Token, "GET", "/api/v1/me", nil, &me) == nil &&
			(n == 0 || c.Do(ctx, cache.Accounts[n-1].Token, "GET", "/api/v1/me", nil, &me) == nil) {
			cache.Accounts = cache.Accounts[:n]
			return cache, nil
		}
	}
	tok, admin, err := c.SignIn(ctx, adminLogin, password)
	if err != nil {
		return cache, fmt.Errorf("admin sign-in as %s: %w", adminLogin, err)
	}
	cache = tokenCache{Base: c.Base, OrgID: admin.OrgID, Admin: account{ID: admin.ID, Login: admin.Login, Token: tok}}
	dept, err := loadDepartment(ctx, c, tok, admin.OrgID)
	if err != nil {
		return cache, err
	}
	existing, err := staffByEmployeeNo(ctx, c, tok, admin.OrgID)
	if err != nil {
		return cache, err
	}
	logf("provisioning %d load users in %s (existing staff: %d)", n, admin.OrgID, len(existing))
	accounts := make([]account, n)
	errs := make(chan error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				a, err := provisionOne(ctx, c, tok, admin.OrgID, dept, existing, i, password)
				if err != nil {
					errs <- fmt.Errorf("load user %d: %w", i, err)
					continue
				}
				accounts[i] = a
			}
		}()
	}
	for i := 0; i < n; i++ {
		if i > 0 && i%100 == 0 {
			logf("  %d/%d", i, n)
		}
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return cache, err
	}
	cache.Accounts = accounts
	b, _ := json.MarshalIndent(cache, "", " ")
	if err := os.WriteFile(cacheFile, b, 0o600); err != nil {
		return cache, err
	}
	return cache, nil
}

func provisionOne(ctx context.Context, c *client.Client, adminTok, orgID, dept string, existing map[string]string, i int, password string) (account, error) {
	emp := fmt.Sprintf("LB%05d", i)
	id, ok := existing[emp]
	if !ok {
		var st struct {
			ID string `json:"id"`
		}
		err := c.Do(ctx, adminTok, "POST", "/api/v1/orgs/"+orgID+"/staff", map[string]any{
			"employee_no": emp, "name": fmt.Sprintf("压测%05d", i), "position": "护士", "primary_department_id": dept,
		}, &st)
		if err != nil {
			return account{}, err
		}
		id = st.ID
	}
	var u client.User
	if err := c.Do(ctx, adminTok, "GET", "/api/v1/users/"+id, nil, &u); err != nil {
		return account{}, err
	}
	if err := c.Do(ctx, adminTok, "PUT", "/api/v1/users/"+id+"/password", map[string]string{"password": password}, nil); err != nil {
		return account{}, err
	}
	tok, _, err := c.SignIn(ctx, u.Login, password)
	if err != nil {
		return account{}, err
	}
	return account{ID: id, Login: u.Login, Token: tok}, nil
}

// loadDepartment finds or creates the 压测科 department under the root.
func loadDepartment(ctx context.Context, c *client.Client, tok, orgID string) (string, error) {
	type dept struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Children []dept `json:"children"`
	}
	var tree struct {
		Items []dept `json:"items"`
	}
	if err := c.Do(ctx, tok, "GET", "/api/v1/orgs/"+orgID+"/departments", nil, &tree); err != nil {
		return "", err
	}
	if len(tree.Items) == 0 {
		return "", errors.New("the organisation has no department tree")
	}
	root := tree.Items[0]
	for _, ch := range root.Children {
		if ch.Name == "压测科" {
			return ch.ID, nil
		}
	}
	var d dept
	err := c.Do(ctx, tok, "POST", "/api/v1/orgs/"+orgID+"/departments", map[string]any{"parent_id": root.ID, "name": "压测科", "order": 999}, &d)
	return d.ID, err
}

func staffByEmployeeNo(ctx context.Context, c *client.Client, tok, orgID string) (map[string]string, error) {
	out := map[string]string{}
	cursor := ""
	for {
		var page struct {
			Items []struct {
				ID         string `json:"id"`
				EmployeeNo string `json:"employee_no"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		q := url.Values{"limit": {"200"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if err := c.Do(ctx, tok, "GET", "/api/v1/orgs/"+orgID+"/staff?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		for _, s := range page.Items {
			out[s.EmployeeNo] = s.ID
		}
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
}
