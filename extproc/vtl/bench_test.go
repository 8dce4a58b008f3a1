package vtl

import (
	"fmt"
	"testing"
)

// benchTemplate is a typical API Gateway request template: it reshapes a
// JSON body into a backend request, with loops, conditionals and string
// methods, producing about 2 KB.
const benchTemplate = `#set($order = $body)
{
  "orderId": "$order.id",
  "customer": {
    "name": "$order.customer.name.trim()",
    "email": "$order.customer.email.toLowerCase()",
    "vip": #if($order.customer.tier == "gold")true#{else}false#end
  },
  "items": [
#foreach($item in $order.items)
    {
      "sku": "$item.sku",
      "qty": $item.qty,
      "price": $item.price,
      "total": #set($t = $item.qty * $item.price)$t,
      "tags": "#foreach($tag in $item.tags)$tag.toUpperCase()#if($foreach.hasNext),#end#end"
    }#if($foreach.hasNext),#end

#end
  ],
  "count": $order.items.size(),
  "note": "$order.note.replace('"', '\"')"
}
`

func benchVars() map[string]any {
	customer := NewMap()
	customer.Set("name", "  Ada Lovelace ")
	customer.Set("email", "Ada@Example.COM")
	customer.Set("tier", "gold")
	items := make([]any, 0, 12)
	for i := range 12 {
		it := NewMap()
		it.Set("sku", fmt.Sprintf("SKU-%04d", i))
		it.Set("qty", int64(i+1))
		it.Set("price", 9.99+float64(i))
		it.Set("tags", []any{"red", "large", "sale"})
		items = append(items, it)
	}
	body := NewMap()
	body.Set("id", "ord-12345")
	body.Set("customer", customer)
	body.Set("items", items)
	body.Set("note", `leave at "door"`)
	return map[string]any{"body": body}
}

func BenchmarkRender(b *testing.B) {
	tmpl, err := Parse("bench", benchTemplate)
	if err != nil {
		b.Fatal(err)
	}
	vars := benchVars()
	out, err := tmpl.Render(vars, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(vars, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
