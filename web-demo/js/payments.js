// Stripe.js is loaded from js.stripe.com (Stripe requires it) only when the server gives a publishable key;
// the page's CSP allows Stripe's hosts only then. Returns {createPaymentMethod()} for the mounted card element.
let stripePromise = null;
function script() {
  if (!stripePromise) {
    stripePromise = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = 'https://js.stripe.com/v3/';
      s.onload = () => resolve(window.Stripe);
      s.onerror = () => { stripePromise = null; reject(new Error('The card form could not be loaded. Choose to pay at the clinic, or try again later.')); };
      document.head.append(s);
    });
  }
  return stripePromise;
}
export async function loadStripe(publishableKey, slot) {
  const Stripe = await script();
  const stripe = Stripe(publishableKey);
  const elements = stripe.elements();
  const card = elements.create('card');
  const label = document.createElement('p');
  label.className = 'hint';
  label.textContent = 'Card details (handled by Stripe)';
  slot.append(label);
  const mount = document.createElement('div');
  slot.append(mount);
  card.mount(mount);
  return {
    async createPaymentMethod() {
      const r = await stripe.createPaymentMethod({ type: 'card', card });
      if (r.error) throw new Error(r.error.message);
      return r.paymentMethod.id;
    },
  };
}
