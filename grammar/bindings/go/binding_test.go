package tree_sitter_qvr_test

import (
	"testing"

	tree_sitter "github.com/smacker/go-tree-sitter"
	"github.com/tree-sitter/tree-sitter-qvr"
)

func TestCanLoadGrammar(t *testing.T) {
	language := tree_sitter.NewLanguage(tree_sitter_qvr.Language())
	if language == nil {
		t.Errorf("Error loading Qvr grammar")
	}
}
