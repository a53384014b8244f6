// Package imhttp serves the messaging core over the JSON HTTP API under
// /api/v1/im: the same operations as the WebSocket, for clients that reload
// over HTTP (after a resync), for bots and for apps, plus file upload and
// download and search. It only translates requests and responses; the im
// service decides who may do what.
package imhttp
