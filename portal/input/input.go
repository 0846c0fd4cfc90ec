// Package input owns what every form and API body shares: field-level
// validation errors with a stable code and a Chinese message, and the
// cleaning of free text (valid UTF-8, no control characters, NFC).
package input

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FieldError is one problem with one field, in words a resident understands.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Errors lists every problem found in one request. The zero value is empty
// and ready to use; the read methods also accept a nil *Errors (templates
// render forms before anything was checked).
type Errors struct {
	Fields []FieldError
}

func (e *Errors) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Message
	}
	return strings.Join(msgs, "；")
}

// Code is the first problem's code, for API clients that read one.
func (e *Errors) Code() string {
	if len(e.Fields) == 0 {
		return "invalid_input"
	}
	return e.Fields[0].Code
}

// For returns the message for a field, or "".
func (e *Errors) For(field string) string {
	if e == nil {
		return ""
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

// Has reports whether a field has a problem.
func (e *Errors) Has(field string) bool { return e.For(field) != "" }

// Add records a problem.
func (e *Errors) Add(field, code, msg string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Code: code, Message: msg})
}

// Empty reports whether no problem was recorded.
func (e *Errors) Empty() bool { return e == nil || len(e.Fields) == 0 }

// Err returns e if it holds problems, nil otherwise.
func (e *Errors) Err() error {
	if e.Empty() {
		return nil
	}
	return e
}

// Text checks a free-text field and returns it normalised (NFC, CRLF → LF,
// surrounding space trimmed). Invalid UTF-8 and control characters are
// recorded as problems of field; newlines and tabs pass only when multiline.
// HTML is kept as text: pages escape it on output.
func (e *Errors) Text(field, label, s string, multiline bool) string {
	if !utf8.ValidString(s) {
		e.Add(field, "invalid_utf8", label+"含有无法识别的字符，请检查后重新输入")
		return strings.ToValidUTF8(s, "")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if !multiline {
		s = strings.TrimSpace(s) // a pasted line often ends in a newline
	}
	for _, r := range s {
		if (r == '\n' || r == '\t') && multiline {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			e.Add(field, "control_characters", label+"含有不可见的控制字符，请删除后重新提交")
			return s
		}
	}
	return strings.TrimSpace(norm.NFC.String(s))
}

// Len counts characters (not bytes).
func Len(s string) int { return utf8.RuneCountInString(s) }
