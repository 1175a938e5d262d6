// Package faq answers members' frequent questions from the rule file's faq:
// section: it matches a message against the entries' example questions, decides
// to answer, suggest, forward to the CMs or stay silent, and reports what it did.
package faq
