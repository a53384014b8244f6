package main

import "context"

// wireAreas builds the hospital areas on top of the core parts.
func (a *App) wireAreas(ctx context.Context, c *coreParts) error {
	return nil
}
