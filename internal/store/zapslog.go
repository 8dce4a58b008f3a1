package store

import (
	"context"
	"log/slog"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// slogCore is a zapcore.Core that hands etcd's zap records to slog, so the
// embedded etcd logs in the same structured format as the rest of Archway.
type slogCore struct {
	logger *slog.Logger
	level  zapcore.LevelEnabler
	fields []zap.Field
}

func newSlogCore(logger *slog.Logger, level zapcore.LevelEnabler) zapcore.Core {
	return &slogCore{logger: logger, level: level}
}

func (c *slogCore) Enabled(l zapcore.Level) bool { return c.level.Enabled(l) }

func (c *slogCore) With(fields []zap.Field) zapcore.Core {
	return &slogCore{logger: c.logger, level: c.level, fields: append(c.fields[:len(c.fields):len(c.fields)], fields...)}
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zap.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	attrs := make([]slog.Attr, 0, len(enc.Fields))
	for k, v := range enc.Fields {
		attrs = append(attrs, slog.Any(k, v))
	}
	c.logger.LogAttrs(context.Background(), slogLevel(e.Level), e.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }

// slogLevel demotes etcd's levels by one step. The embedded etcd warns about
// choices Archway makes for it on purpose (one port for HTTP and gRPC,
// simple auth tokens) and reports its own clean shutdown as an error; what
// matters to an operator reaches Archway as client errors anyway. etcd's
// fatal and panic records stay errors.
func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l >= zapcore.DPanicLevel:
		return slog.LevelError
	case l == zapcore.ErrorLevel:
		return slog.LevelWarn
	case l == zapcore.WarnLevel:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
