package imhttp

import "github.com/roundshq/rounds/core/httpapi"

func (h *Handlers) registerExtra(rt *httpapi.Router) {}
