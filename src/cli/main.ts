console.log('convlens');
