package sqldb

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/roundshq/rounds/core"
)

// outageConnector makes PostgreSQL outages EUnavailable at the driver, where
// every error passes: database/sql hands a driver's error back unchanged from
// every call — including sql.Row.Scan, which no wrapper of DB sees — so the
// stores, which wrap errors with core.Wrap, keep the code and a request made
// while PostgreSQL is down, shutting down or starting up answers 503, not 500.
//
// A failed connection attempt is an outage whatever the cause. On an open
// connection, mapErr decides (class 08 and 57P errors, broken sockets);
// driver.ErrBadConn passes unchanged so database/sql still retries on a
// fresh connection.
type outageConnector struct{ driver.Connector }

func (c outageConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, &core.Error{Code: core.EUnavailable, Message: "the database is unavailable", Err: err}
	}
	if sc, ok := conn.(*stdlib.Conn); ok {
		return outageConn{sc}, nil
	}
	return conn, nil
}

// outageConn is pgx's connection with its errors passed through driverErr.
// It implements the same optional interfaces as *stdlib.Conn, so
// database/sql treats it the same (argument conversion included).
type outageConn struct{ c *stdlib.Conn }

var (
	_ driver.Conn               = outageConn{}
	_ driver.ConnPrepareContext = outageConn{}
	_ driver.ConnBeginTx        = outageConn{}
	_ driver.ExecerContext      = outageConn{}
	_ driver.QueryerContext     = outageConn{}
	_ driver.Pinger             = outageConn{}
	_ driver.NamedValueChecker  = outageConn{}
	_ driver.SessionResetter    = outageConn{}
)

func driverErr(err error) error {
	if err == nil || errors.Is(err, driver.ErrBadConn) {
		return err
	}
	return mapErr(err)
}

func (o outageConn) Prepare(q string) (driver.Stmt, error) {
	st, err := o.c.Prepare(q)
	return st, driverErr(err)
}

func (o outageConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := o.c.PrepareContext(ctx, q)
	return st, driverErr(err)
}

func (o outageConn) Close() error { return o.c.Close() }

func (o outageConn) Begin() (driver.Tx, error) {
	tx, err := o.c.Begin()
	return tx, driverErr(err)
}

func (o outageConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := o.c.BeginTx(ctx, opts)
	return tx, driverErr(err)
}

func (o outageConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	r, err := o.c.ExecContext(ctx, q, args)
	return r, driverErr(err)
}

func (o outageConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := o.c.QueryContext(ctx, q, args)
	return r, driverErr(err)
}

func (o outageConn) Ping(ctx context.Context) error { return o.c.Ping(ctx) }

func (o outageConn) CheckNamedValue(v *driver.NamedValue) error { return o.c.CheckNamedValue(v) }

func (o outageConn) ResetSession(ctx context.Context) error { return o.c.ResetSession(ctx) }
