package sqlstore_test

import (
	"testing"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/approvals/approvalstest"
	"github.com/roundshq/rounds/approvals/sqlstore"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

func TestStoreContract(t *testing.T) {
	m := []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}
	t.Run("sqlite", func(t *testing.T) {
		approvalstest.Run(t, func(t *testing.T) approvals.Store { return sqlstore.New(sqldbtest.OpenSQLite(t, m...)) })
	})
	t.Run("postgres", func(t *testing.T) {
		approvalstest.Run(t, func(t *testing.T) approvals.Store { return sqlstore.New(sqldbtest.OpenPostgres(t, m...)) })
	})
}
