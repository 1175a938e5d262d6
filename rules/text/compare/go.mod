module github.com/vigie-bot/vigie/rules/text/compare

go 1.26.0

require (
	github.com/TwiN/go-away v1.6.13
	github.com/vigie-bot/vigie v0.0.0
	golang.org/x/text v0.43.0
)

replace github.com/vigie-bot/vigie => ../../..
