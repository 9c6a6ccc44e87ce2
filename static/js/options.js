// Progressive enhancement of a vest's page (templates/shop/_buy_form.html): its size and
// added weight as two choices, with the chosen option's price and stock beside the
// button, and the most of it she can buy in the quantity's hint and max (data-max, from
// shop/cart.py max_quantity). Without this file the page offers one choice of both,
// which works the same.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var form = document.querySelector("form[data-options]");
  if (!form) return;
  var combined = form.querySelector("[data-combined] select");
  var pair = form.querySelector("[data-pair]");
  var size = pair.querySelector("select[name=size]");
  var weight = pair.querySelector("select[name=weight]");
  var status = form.querySelector("[data-option-status]");
  var price = status.querySelector("[data-option-price]");
  var stock = status.querySelector("[data-option-stock]");
  var button = form.querySelector("button[type=submit]");
  var quantity = form.querySelector("input[name=quantity]");
  var hint = form.querySelector("[data-quantity-hint]");

  function optionFor(s, w) {
    for (var i = 0; i < combined.options.length; i++) {
      var o = combined.options[i];
      if (o.getAttribute("data-size") === s && o.getAttribute("data-weight") === w) return o;
    }
    return null;
  }

  function show() {
    var option = optionFor(size.value, weight.value);
    var buyable = option !== null && !option.disabled;
    price.textContent = option ? option.getAttribute("data-price") : "";
    stock.className = "stock " + (option ? option.getAttribute("data-stock-class") : "stock-out");
    stock.textContent = option
      ? option.getAttribute("data-stock") + (buyable ? "" : ": please choose another size or weight")
      : "Not made in this size and weight: please choose another";
    if (button) button.disabled = !buyable;
    if (buyable && quantity && hint) {
      var most = option.getAttribute("data-max");
      quantity.max = most;
      hint.textContent = "From 1 to " + most + ".";
    }
  }

  // The two choices take the place of the one: only they are sent.
  combined.disabled = true;
  form.querySelector("[data-combined]").hidden = true;
  size.disabled = false;
  weight.disabled = false;
  pair.hidden = false;
  status.hidden = false;
  size.addEventListener("change", show);
  weight.addEventListener("change", show);
  show();
});
