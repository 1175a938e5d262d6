package faq

// thesaurus adds to the lexicon's concepts the words a general thesaurus gives
// for them, so that the public's other words for a price, a vehicle or a
// parcel are known without anyone having met them in a brand's messages.
//
// The candidates come from the LibreOffice thesauri as Debian ships them
// (mythes-fr: thes_fr.dat, Kevin Hendricks, Frédéric Labbé, Laurent Godard,
// LGPL-2.1+; mythes-en-us: th_en_US_v2.dat, built from Princeton WordNet 3.0,
// WordNet licence): a word is a candidate for a concept when it and two or
// more of the concept's words list each other as synonyms. They are kept in
// testdata/thesaurus/candidates.txt, which TestThesaurus rebuilds with
// -update-thesaurus where the packages are installed. A thesaurus mixes the
// senses of a word (louer is to rent and to praise), so only the candidates
// read below were kept, those whose customer-service sense is the only
// likely one; TestThesaurus holds each of them to its candidate list.
const thesaurus = `
deliver: despatch
parcel: packet, envoi
job: boulot, metier, profession, interimaire
price: montant, onereux, cherte, taxe
free: gratis
promo: escompte, ristourne
pay: payement
paymethod: numeraire
refund: indemnite, defrayer
return: restituer, reexpedier, rapporter, ramener
store: agency, echoppe, filiale, officine, drugstore
city: agglomeration, localite, commune
address: vicinity, locality
abroad: foreign
bug: bogue
release: lancement
booking: lease
warranty: warrantee
school: lycee, faculte, institut, academie
parking: parquer, parcage
repair: mend, mending
secondhand: brocante
subscription: souscription
transport: aerodrome, aerogare, omnibus, motorbus, terminus, embarcadere, halte
disruption: detour
belongings: sacoche, handbag, pocketbook
carry: perambulator
luggage: mallette, paquetage, malle
assist: amblyope
breakdown: telescopage
fuel: fioul, mazout, gasoline, gasolene, kerosene
vehicle: automobile, bagnole, berline, cabriolet, decapotable, fourgon, motorcar, roadster, tacot
animal: ara, ophidien, saurien, jument, poulain
treat: chirurgien, clinicien, generaliste
vaccine: immunise
allowed: admis, tolere
waste: detritus, immondice
loan: lend
audience: junior
allergen: cacahouetes
`
